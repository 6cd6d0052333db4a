"""`mobius-sqlcheck server`: the linter as a Language Server Protocol server
over stdio, for editors.

- `analysis`: what the server computes, without the protocol: a file's
  diagnostics judged against its history (open buffers over the disk), the
  catalog as it stands before a statement (for hover), fixes at a position;
- `protocol`: the pygls server: documents in, diagnostics, hovers and code
  actions out.

pygls and lsprotocol are imported only here (the `server` extra), never on
the lint hook's start-up path.
"""
