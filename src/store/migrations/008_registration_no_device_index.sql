-- Every REGISTER rewrites its binding's row. A refresh changes only non-key columns, so
-- SQLite rewrites the table's page alone, except for an index on a column the upsert sets:
-- device was one. Only deleting a device looks registrations up by device, which is rare
-- and may scan, so the index goes: one page written per refresh instead of two.
DROP INDEX registration_device;
