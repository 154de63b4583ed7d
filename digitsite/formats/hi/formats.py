"""Hindi dates as Hindi readers write them: "25 नवंबर 2026, 15:43" and "25/11/2026 15:43".

Django's own Hindi formats (django/conf/locale/hi/formats.py) have no date-and-time formats, so the
English ones were used, with the abbreviated month's stray period ("नवम्बर. 25, 2026, 3:43 बजे"). Full
month names, the day first, and the 24-hour clock. The month is Django's "alternative" name (E): its
plain Hindi names misspell three months ("नवमबर" for नवंबर). These replace Django's Hindi formats whole.
"""

DATE_FORMAT = "j E Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j E Y, H:i"
MONTH_DAY_FORMAT = "j E"
YEAR_MONTH_FORMAT = "E Y"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
FIRST_DAY_OF_WEEK = 0  # Sunday
# Year first: the date fields are <input type="date">, which send and show only that form.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
