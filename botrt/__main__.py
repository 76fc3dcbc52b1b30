import sys

from botrt.cli import main

sys.exit(main())
