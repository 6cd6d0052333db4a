-- Core Mobius tables: brands, the assets generated for them, and the
-- generation jobs that produce those assets.
--
-- Row level security is enabled with no policy on purpose: the backend talks
-- to the database as service_role, which bypasses RLS, while anon and
-- authenticated (which Supabase grants table privileges in public by default)
-- must see nothing. See migrations/README.md.

CREATE TABLE public.brands (
    brand_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL,
    name varchar(255) NOT NULL,
    guidelines jsonb NOT NULL,
    pdf_url text,
    logo_thumbnail_url text,
    needs_review text[] DEFAULT '{}',
    learning_active boolean DEFAULT FALSE,
    feedback_count integer DEFAULT 0,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now(),
    deleted_at timestamptz
);

ALTER TABLE public.brands ENABLE ROW LEVEL SECURITY;

-- job_id has no foreign key: jobs expire and are purged (expires_at), while
-- the assets they produced are kept.
CREATE TABLE public.assets (
    asset_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id uuid NOT NULL REFERENCES public.brands (brand_id),
    job_id uuid NOT NULL,
    prompt text NOT NULL,
    image_url text NOT NULL,
    compliance_score double precision,
    compliance_details jsonb,
    generation_params jsonb,
    status varchar(50) NOT NULL,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now()
);

ALTER TABLE public.assets ENABLE ROW LEVEL SECURITY;

CREATE TABLE public.jobs (
    job_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id uuid NOT NULL REFERENCES public.brands (brand_id),
    status varchar(50) NOT NULL,
    progress double precision DEFAULT 0,
    state jsonb NOT NULL,
    webhook_url text,
    webhook_attempts integer DEFAULT 0,
    idempotency_key varchar(64),
    error text,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now(),
    expires_at timestamptz DEFAULT now() + interval '24 hours'
);

ALTER TABLE public.jobs ENABLE ROW LEVEL SECURITY;

-- Brands are listed per organization and soft-deleted ones never are.
CREATE INDEX idx_brands_org
ON public.brands (organization_id)
WHERE deleted_at IS NULL;

CREATE INDEX idx_assets_brand ON public.assets (brand_id);
CREATE INDEX idx_assets_job ON public.assets (job_id);

CREATE INDEX idx_jobs_brand ON public.jobs (brand_id);
CREATE INDEX idx_jobs_status ON public.jobs (status);

-- The cleanup sweep looks only at jobs that can expire.
CREATE INDEX idx_jobs_expires
ON public.jobs (expires_at)
WHERE expires_at IS NOT NULL;

-- A retried request with the same idempotency key must not start a second
-- job; requests without a key are not deduplicated.
CREATE UNIQUE INDEX idx_jobs_idempotency
ON public.jobs (idempotency_key)
WHERE idempotency_key IS NOT NULL;
