-- Supabase platform objects that a vanilla PostgreSQL 15 lacks, so the real
-- migrations can be applied to a throwaway server (tests, `apply --ephemeral`).
-- This is NOT a migration: on a Supabase project the platform creates all of
-- this before any user migration runs. Every statement is idempotent so the
-- file can be run any number of times, and roles are created only if missing
-- because they are cluster-wide while everything else is per database.

-- Roles. duplicate_object / unique_violation are swallowed because two
-- databases of one cluster may bootstrap concurrently (parallel tests) and
-- both see the role as missing.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'anon') THEN
        CREATE ROLE anon NOLOGIN NOINHERIT;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;

DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'authenticated'
    ) THEN
        CREATE ROLE authenticated NOLOGIN NOINHERIT;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;

-- service_role is what the Mobius backend uses: it bypasses RLS.
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'service_role'
    ) THEN
        CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;

-- authenticator is the login role PostgREST switches from into the others.
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'authenticator'
    ) THEN
        CREATE ROLE authenticator LOGIN NOINHERIT;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;

-- Granted only if missing, so a rerun stays silent.
DO $$
DECLARE
    api_role text;
BEGIN
    FOREACH api_role IN ARRAY ARRAY['anon', 'authenticated', 'service_role']
    LOOP
        IF NOT pg_catalog.pg_has_role('authenticator', api_role, 'MEMBER') THEN
            EXECUTE pg_catalog.format('GRANT %I TO authenticator', api_role);
        END IF;
    END LOOP;
END
$$;

CREATE SCHEMA IF NOT EXISTS auth;
CREATE SCHEMA IF NOT EXISTS extensions;
CREATE SCHEMA IF NOT EXISTS storage;

GRANT USAGE ON SCHEMA auth, extensions, storage
TO anon, authenticated, service_role;

-- Like Supabase, the API roles get full table privileges in public by default,
-- so row level security is the only thing that keeps anon / authenticated out.
-- Tests therefore exercise the same exposure a real project has.
ALTER DEFAULT PRIVILEGES IN SCHEMA public
GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;

CREATE TABLE IF NOT EXISTS auth.users (
    id uuid PRIMARY KEY,
    email text,
    role varchar(255),
    raw_app_meta_data jsonb,
    raw_user_meta_data jsonb,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now()
);

-- PostgREST puts the JWT subject in request.jwt.claim.sub (older versions) or
-- inside request.jwt.claims (newer ones); accept both, and an empty or unset
-- setting means "no user".
CREATE OR REPLACE FUNCTION auth.uid()
RETURNS uuid
LANGUAGE sql
STABLE
AS $$
    SELECT nullif(
        coalesce(
            pg_catalog.current_setting('request.jwt.claim.sub', TRUE),
            pg_catalog.current_setting('request.jwt.claims', TRUE)::jsonb
            ->> 'sub'
        ),
        ''
    )::uuid
$$;

CREATE OR REPLACE FUNCTION auth.role()
RETURNS text
LANGUAGE sql
STABLE
AS $$
    SELECT nullif(
        coalesce(
            pg_catalog.current_setting('request.jwt.claim.role', TRUE),
            pg_catalog.current_setting('request.jwt.claims', TRUE)::jsonb
            ->> 'role'
        ),
        ''
    )::text
$$;

-- Exactly the columns of Supabase's storage.buckets.
CREATE TABLE IF NOT EXISTS storage.buckets (
    id text PRIMARY KEY,
    name text NOT NULL UNIQUE,
    owner uuid,
    owner_id text,
    public boolean DEFAULT FALSE,
    avif_autodetection boolean DEFAULT FALSE,
    file_size_limit bigint,
    allowed_mime_types text[],
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now()
);

-- Minimal: enough that a bucket holding objects cannot be deleted, as on
-- Supabase.
CREATE TABLE IF NOT EXISTS storage.objects (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    bucket_id text REFERENCES storage.buckets (id),
    name text,
    owner uuid,
    owner_id text,
    metadata jsonb,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now(),
    last_accessed_at timestamptz DEFAULT now()
);

ALTER TABLE storage.buckets ENABLE ROW LEVEL SECURITY;
ALTER TABLE storage.objects ENABLE ROW LEVEL SECURITY;

GRANT ALL ON storage.buckets, storage.objects TO service_role;
