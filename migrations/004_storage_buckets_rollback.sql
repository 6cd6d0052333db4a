-- Undoes 004_storage_buckets: removes the two bucket rows. Storage refuses
-- to delete a bucket that still holds objects (storage.objects references
-- it); empty it through the Storage API first rather than deleting object
-- rows here, which would orphan the stored files.

DELETE FROM storage.buckets
WHERE id IN ('brands', 'assets');
