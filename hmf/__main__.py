import sys

from hmf.cli import main

sys.exit(main())
