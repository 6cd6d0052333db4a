-- Undoes 004_learning_privacy. Triggers go before their functions, indexes
-- and tables before brands.cohort; the learned data and the consent trail are
-- lost, which is the point of rolling the feature back.

DROP TRIGGER IF EXISTS learning_settings_privacy_audit_trigger
ON public.learning_settings;
DROP FUNCTION IF EXISTS public.log_privacy_tier_change();

DROP TRIGGER IF EXISTS brands_default_learning_settings_trigger
ON public.brands;
DROP FUNCTION IF EXISTS public.create_default_learning_settings();

DROP TRIGGER IF EXISTS industry_patterns_updated_at_trigger
ON public.industry_patterns;
DROP TRIGGER IF EXISTS brand_patterns_updated_at_trigger
ON public.brand_patterns;
DROP TRIGGER IF EXISTS learning_settings_updated_at_trigger
ON public.learning_settings;
DROP FUNCTION IF EXISTS public.set_updated_at();

DROP INDEX IF EXISTS public.idx_learning_audit_log_brand_created;
DROP INDEX IF EXISTS public.idx_industry_patterns_cohort_type;
DROP INDEX IF EXISTS public.idx_brand_patterns_brand_type;

DROP TABLE IF EXISTS public.learning_audit_log;
DROP TABLE IF EXISTS public.industry_patterns;
DROP TABLE IF EXISTS public.brand_patterns;
DROP TABLE IF EXISTS public.learning_settings;

ALTER TABLE IF EXISTS public.brands DROP COLUMN IF EXISTS cohort;
