-- Undoes 002_add_templates: drops the templates table and its index.

DROP INDEX IF EXISTS public.idx_templates_brand;

DROP TABLE IF EXISTS public.templates;
