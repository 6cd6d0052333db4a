-- Supabase Storage buckets: `brands` for brand guideline PDFs, `assets` for
-- generated images. Both private (public = false): guideline PDFs are
-- confidential client documents, and generated assets are unreleased client
-- work. A public bucket serves every object to anyone who has or guesses its
-- URL, with no expiry and no revocation; the backend hands out signed URLs
-- instead. The size and MIME limits are enforced by Storage on upload.
--
-- ON CONFLICT DO UPDATE so that a bucket first created by hand in the
-- dashboard is brought to exactly these settings rather than kept as it was.

INSERT INTO storage.buckets (
    id, name, public, file_size_limit, allowed_mime_types
)
VALUES
(
    'brands', 'brands', FALSE, 52428800,
    ARRAY['application/pdf']
),
(
    'assets', 'assets', FALSE, 10485760,
    ARRAY['image/png', 'image/jpeg', 'image/webp']
)
ON CONFLICT (id) DO UPDATE
    SET
        name = excluded.name,
        public = excluded.public,
        file_size_limit = excluded.file_size_limit,
        allowed_mime_types = excluded.allowed_mime_types,
        updated_at = now();
