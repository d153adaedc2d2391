"""The filesystem edges of the pipeline: camera folders (:mod:`.camera_folders`), uploads as a
watcher sees them (:mod:`.uploads`) and reads them for validation (:mod:`.validation`), images
decoded for the detector and thumbnails written (:mod:`.images`), and safe deletions for the
retention cleanup (:mod:`.cleanup`). Blocking calls: actors run them in worker threads."""
