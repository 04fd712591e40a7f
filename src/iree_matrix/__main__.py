from iree_matrix.cli import main

raise SystemExit(main())
