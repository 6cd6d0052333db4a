from mobius_sqlcheck.cli import main

raise SystemExit(main())
