-- Undoes 005_add_compressed_twin: the guard, the index, then the column.
-- Only the compressed twins are lost; they can be regenerated from
-- guidelines.

ALTER TABLE IF EXISTS public.brands
DROP CONSTRAINT IF EXISTS brands_compressed_twin_token_budget_check;

DROP INDEX IF EXISTS public.idx_brands_compressed_twin;

ALTER TABLE IF EXISTS public.brands DROP COLUMN IF EXISTS compressed_twin;
