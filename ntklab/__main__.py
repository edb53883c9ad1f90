import sys

from ntklab.cli import main

sys.exit(main())
