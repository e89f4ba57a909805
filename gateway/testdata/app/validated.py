"""gwtest's app behind wsgiref.validate.validator, its warnings turned into errors: any departure
the validator sees in how the gateway calls the app becomes a 500 and a traceback in the log."""
import warnings
from wsgiref.validate import WSGIWarning, validator

import gwtest

warnings.simplefilter("error", WSGIWarning)
application = validator(gwtest.application)
