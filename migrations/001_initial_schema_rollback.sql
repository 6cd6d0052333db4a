-- Undoes 001_initial_schema: drops jobs, assets and brands with their indexes.
-- Dependants go first (assets and jobs reference brands); no CASCADE, so an
-- object a later migration added that still depends on these tables makes
-- the rollback fail instead of silently dropping it.

DROP INDEX IF EXISTS public.idx_jobs_idempotency;
DROP INDEX IF EXISTS public.idx_jobs_expires;
DROP INDEX IF EXISTS public.idx_jobs_status;
DROP INDEX IF EXISTS public.idx_jobs_brand;
DROP INDEX IF EXISTS public.idx_assets_job;
DROP INDEX IF EXISTS public.idx_assets_brand;
DROP INDEX IF EXISTS public.idx_brands_org;

DROP TABLE IF EXISTS public.jobs;
DROP TABLE IF EXISTS public.assets;
DROP TABLE IF EXISTS public.brands;
