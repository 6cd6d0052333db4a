"""The lint pipeline, one module per stage:

- `discovery`: which paths are migrations directories, loose SQL or text files;
- `sources`: where files come from (the disk, or editor buffers with versions);
- `selection`: the rules a run uses, with their severities;
- `replay`: a parsed file replayed into the catalog (also used by the applier);
- `pipeline`: one run, from paths to diagnostics;
- `workers`: the catalog-free checks of a long history in worker processes;
- `suppression`: inline suppressions applied to the findings, in one step.
"""

from __future__ import annotations

from mobius_sqlcheck.diagnostics import LintResult
from mobius_sqlcheck.lint.pipeline import lint_paths

__all__ = ["LintResult", "lint_paths"]
