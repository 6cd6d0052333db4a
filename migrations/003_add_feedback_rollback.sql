-- Undoes 003_add_feedback: the trigger before its function, the indexes, then
-- the table. brands.feedback_count / learning_active belong to 001 and keep
-- their last values.

DROP TRIGGER IF EXISTS feedback_learning_trigger ON public.feedback;
DROP FUNCTION IF EXISTS public.update_learning_active();

DROP INDEX IF EXISTS public.idx_feedback_asset;
DROP INDEX IF EXISTS public.idx_feedback_brand;

DROP TABLE IF EXISTS public.feedback;
