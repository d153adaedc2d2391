"""The data layer of the API: queries that take a session or a Redis client and return structs.

ORM objects stay in here; routes only ever see the msgspec structs of ``homesec.http.schemas``.
"""
