-- brands.compressed_twin: the brand guidelines compressed to fit the Vision
-- model's 65k-token context (semantic colour hierarchy, font families,
-- critical constraints); `guidelines` keeps the full text. Non-breaking:
-- nullable, no default, so existing rows and readers are unaffected and the
-- ALTER rewrites nothing. IF NOT EXISTS because the column may have been
-- added by hand ahead of this migration.

ALTER TABLE public.brands ADD COLUMN IF NOT EXISTS compressed_twin jsonb;

COMMENT ON COLUMN public.brands.compressed_twin IS
'Brand guidelines compressed for the Vision model context (at most about 60k '
'tokens): semantic colour hierarchy, font families, critical constraints. '
'NULL until compressed; guidelines keeps the full text.';

-- Token-size guard. A tokenizer cannot run in a CHECK, so it bounds the size
-- of the JSON text instead: about 4 bytes per token, 60k tokens = 240000
-- bytes. The database is the last line of defence; the compressor should
-- still count real tokens before it writes. NULL passes (no twin yet).
-- Added NOT VALID, then validated: the safe sequence for a constraint on an
-- existing table, since VALIDATE scans under SHARE UPDATE EXCLUSIVE only.
-- Within this one transaction the ADD COLUMN's ACCESS EXCLUSIVE lock is held
-- to the end anyway; the scan is cheap because the new column is NULL on
-- every row (unless it was added by hand with data, which the scan then
-- checks and, if over budget, fails the migration rather than accept it).
ALTER TABLE public.brands
ADD CONSTRAINT brands_compressed_twin_token_budget_check
CHECK (octet_length(compressed_twin::text) <= 240000) NOT VALID;

ALTER TABLE public.brands
VALIDATE CONSTRAINT brands_compressed_twin_token_budget_check;

-- The Vision path looks up only brands that already have a twin.
CREATE INDEX IF NOT EXISTS idx_brands_compressed_twin
ON public.brands (brand_id)
WHERE compressed_twin IS NOT NULL;
