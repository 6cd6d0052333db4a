-- Templates: reusable generation parameters saved per brand, optionally from
-- an asset that worked well. Soft-deleted like brands.

CREATE TABLE public.templates (
    template_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id uuid NOT NULL REFERENCES public.brands (brand_id),
    name varchar(255) NOT NULL,
    description text,
    generation_params jsonb NOT NULL,
    thumbnail_url text,
    source_asset_id uuid REFERENCES public.assets (asset_id),
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now(),
    deleted_at timestamptz
);

-- No policy: only service_role (which bypasses RLS) may read or write.
ALTER TABLE public.templates ENABLE ROW LEVEL SECURITY;

-- Templates are listed per brand, never the soft-deleted ones.
CREATE INDEX idx_templates_brand
ON public.templates (brand_id)
WHERE deleted_at IS NULL;
