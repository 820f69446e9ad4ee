from tests.django_suite.run import main

raise SystemExit(main())
