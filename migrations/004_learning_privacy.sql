-- Learning privacy: per-brand learning consent (privacy tier off / private /
-- shared), the patterns learned per brand, anonymised cross-brand patterns
-- per industry cohort, and an audit trail of privacy-tier changes.
--
-- Every table gets RLS with no policy, like the others: only service_role
-- (which bypasses RLS) touches them. Brand-owned rows go with their brand
-- (ON DELETE CASCADE): deleting a brand must delete what was learned from it.

-- The industry cohort a brand contributes to when its tier is 'shared'.
-- Nullable with no default, so adding it rewrites nothing.
ALTER TABLE public.brands ADD COLUMN cohort varchar(50);

CREATE TABLE public.learning_settings (
    brand_id uuid PRIMARY KEY
    REFERENCES public.brands (brand_id) ON DELETE CASCADE,
    privacy_tier varchar(20) NOT NULL DEFAULT 'private'
    CONSTRAINT learning_settings_privacy_tier_check
    CHECK (privacy_tier IN ('off', 'private', 'shared')),
    consent_date timestamptz,
    consent_version varchar(20) DEFAULT '1.0',
    data_retention_days integer DEFAULT 365
    CONSTRAINT learning_settings_data_retention_days_check
    CHECK (data_retention_days > 0),
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now()
);

ALTER TABLE public.learning_settings ENABLE ROW LEVEL SECURITY;

CREATE TABLE public.brand_patterns (
    pattern_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id uuid NOT NULL
    REFERENCES public.brands (brand_id) ON DELETE CASCADE,
    pattern_type varchar(50) NOT NULL,
    pattern_data jsonb NOT NULL,
    confidence_score double precision DEFAULT 0
    CONSTRAINT brand_patterns_confidence_score_check
    CHECK (confidence_score BETWEEN 0 AND 1),
    sample_count integer DEFAULT 0
    CONSTRAINT brand_patterns_sample_count_check
    CHECK (sample_count >= 0),
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now()
);

ALTER TABLE public.brand_patterns ENABLE ROW LEVEL SECURITY;

-- Aggregates across brands, with no brand_id: a pattern is published only if
-- at least 5 brands contributed (k-anonymity) and noise was added
-- (differential privacy), which the checks enforce at the last line.
CREATE TABLE public.industry_patterns (
    pattern_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    cohort varchar(50) NOT NULL,
    pattern_type varchar(50) NOT NULL,
    pattern_data jsonb NOT NULL,
    contributor_count integer NOT NULL
    CONSTRAINT industry_patterns_contributor_count_check
    CHECK (contributor_count >= 5),
    noise_level double precision NOT NULL
    CONSTRAINT industry_patterns_noise_level_check
    CHECK (noise_level > 0),
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now()
);

ALTER TABLE public.industry_patterns ENABLE ROW LEVEL SECURITY;

CREATE TABLE public.learning_audit_log (
    log_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id uuid NOT NULL
    REFERENCES public.brands (brand_id) ON DELETE CASCADE,
    action varchar(50) NOT NULL,
    details jsonb DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE public.learning_audit_log ENABLE ROW LEVEL SECURITY;

-- Patterns are read per brand (or per cohort) and type; the leading brand_id
-- also serves the ON DELETE CASCADE from brands.
CREATE INDEX idx_brand_patterns_brand_type
ON public.brand_patterns (brand_id, pattern_type);

CREATE INDEX idx_industry_patterns_cohort_type
ON public.industry_patterns (cohort, pattern_type);

-- A brand's audit trail is read newest first; also serves the cascade.
CREATE INDEX idx_learning_audit_log_brand_created
ON public.learning_audit_log (brand_id, created_at DESC);

-- Brands that existed before this migration get the default settings too.
INSERT INTO public.learning_settings (brand_id)
SELECT brand_id FROM public.brands
ON CONFLICT (brand_id) DO NOTHING;

-- One function for the three updated_at triggers. SECURITY INVOKER: it only
-- touches NEW.
CREATE FUNCTION public.set_updated_at()
RETURNS trigger
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TRIGGER learning_settings_updated_at_trigger
BEFORE UPDATE ON public.learning_settings
FOR EACH ROW
EXECUTE FUNCTION public.set_updated_at();

CREATE TRIGGER brand_patterns_updated_at_trigger
BEFORE UPDATE ON public.brand_patterns
FOR EACH ROW
EXECUTE FUNCTION public.set_updated_at();

CREATE TRIGGER industry_patterns_updated_at_trigger
BEFORE UPDATE ON public.industry_patterns
FOR EACH ROW
EXECUTE FUNCTION public.set_updated_at();

-- Every brand starts on the default tier ('private'). SECURITY INVOKER: the
-- role that inserts brands (service_role) may insert settings too.
CREATE FUNCTION public.create_default_learning_settings()
RETURNS trigger
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
BEGIN
    INSERT INTO public.learning_settings (brand_id)
    VALUES (NEW.brand_id)
    ON CONFLICT (brand_id) DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE TRIGGER brands_default_learning_settings_trigger
AFTER INSERT ON public.brands
FOR EACH ROW
EXECUTE FUNCTION public.create_default_learning_settings();

-- SECURITY DEFINER on purpose: the consent trail must be written whatever
-- role changes the tier, without granting that role INSERT on the audit log
-- (a role that can insert audit rows can also forge them). It runs as the
-- migration owner, which owns the table and so is not subject to its RLS.
-- search_path is empty and every table qualified, so a caller cannot
-- substitute objects of its own.
CREATE FUNCTION public.log_privacy_tier_change()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    INSERT INTO public.learning_audit_log (brand_id, action, details)
    VALUES (
        NEW.brand_id,
        'privacy_tier_changed',
        jsonb_build_object(
            'old_tier', OLD.privacy_tier,
            'new_tier', NEW.privacy_tier,
            'consent_version', NEW.consent_version,
            'consent_date', NEW.consent_date
        )
    );
    RETURN NULL;
END;
$$;

CREATE TRIGGER learning_settings_privacy_audit_trigger
AFTER UPDATE OF privacy_tier ON public.learning_settings
FOR EACH ROW
WHEN (old.privacy_tier IS DISTINCT FROM new.privacy_tier)
EXECUTE FUNCTION public.log_privacy_tier_change();
