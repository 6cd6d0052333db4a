-- Feedback: approve / reject verdicts on generated assets. Each new row
-- recounts the brand's feedback and switches learning on at 50 verdicts.

CREATE TABLE public.feedback (
    feedback_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    asset_id uuid NOT NULL REFERENCES public.assets (asset_id),
    brand_id uuid NOT NULL REFERENCES public.brands (brand_id),
    action varchar(20) NOT NULL
    CONSTRAINT feedback_action_check CHECK (action IN ('approve', 'reject')),
    reason text,
    created_at timestamptz DEFAULT now()
);

-- No policy: only service_role (which bypasses RLS) may read or write.
ALTER TABLE public.feedback ENABLE ROW LEVEL SECURITY;

CREATE INDEX idx_feedback_brand ON public.feedback (brand_id);
CREATE INDEX idx_feedback_asset ON public.feedback (asset_id);

-- SECURITY INVOKER: the inserting role (service_role) may update brands
-- anyway, so the function needs no extra rights. search_path is pinned and
-- every table qualified so a caller's search_path cannot redirect it
-- (pg_catalog is still searched first, so built-ins need no prefix).
--
-- The count is recomputed rather than incremented so it heals any drift,
-- and the brand row is locked first: under READ COMMITTED the COUNT that
-- follows then sees every concurrent feedback insert for the brand that
-- committed before us, so two simultaneous inserts cannot miss each other.
-- learning_active is only ever switched on here, never off.
CREATE FUNCTION public.update_learning_active()
RETURNS trigger
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
DECLARE
    v_count integer;
BEGIN
    PERFORM 1
    FROM public.brands
    WHERE brand_id = NEW.brand_id
    FOR UPDATE;

    SELECT count(*)
    INTO v_count
    FROM public.feedback
    WHERE brand_id = NEW.brand_id;

    UPDATE public.brands
    SET feedback_count = v_count,
        learning_active = coalesce(learning_active, FALSE) OR v_count >= 50
    WHERE brand_id = NEW.brand_id;

    RETURN NULL;
END;
$$;

CREATE TRIGGER feedback_learning_trigger
AFTER INSERT ON public.feedback
FOR EACH ROW
EXECUTE FUNCTION public.update_learning_active();
