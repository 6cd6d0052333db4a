"""The lint history cache (see `history`) and the store it keeps entries in
(see `store`). Nothing here is imported by `mobius-sqlcheck lint --no-cache`.
"""
