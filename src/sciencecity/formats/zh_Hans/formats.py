"""zh-Hans formats with ISO dates first, so that ``<input type="date">`` (which only accepts
YYYY-MM-DD) shows the stored value; the Chinese slash forms are still accepted on input."""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403
from django.conf.locale.zh_Hans.formats import DATE_INPUT_FORMATS as _DATE_INPUT_FORMATS
from django.conf.locale.zh_Hans.formats import DATETIME_INPUT_FORMATS as _DATETIME_INPUT_FORMATS

DATE_INPUT_FORMATS = ["%Y-%m-%d", *[f for f in _DATE_INPUT_FORMATS if f != "%Y-%m-%d"]]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M",
                          *[f for f in _DATETIME_INPUT_FORMATS if f not in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")]]
