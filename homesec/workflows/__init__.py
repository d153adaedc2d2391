"""Work of a stage that spans the store and the filesystem, kept out of the actor shells: the
ingest of a finished upload (:mod:`.ingest`, the watcher's and the backfill's) and the disk guard
(:mod:`.disk_guard`, the janitor's)."""
