"""Tamil dates as Tamil readers write them: "25 நவம்பர் 2026, 15:43" and "25/11/2026 15:43".

Django's own Tamil formats (django/conf/locale/ta/formats.py) have no date-and-time formats, so the
English ones were used ("Nov. 25, 2026, 3:43 p.m."). The day comes first; the 24-hour clock needs no
a.m./p.m., which Django has no Tamil words for. These replace Django's Tamil formats whole.
"""

DATE_FORMAT = "j F Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j F Y, H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
FIRST_DAY_OF_WEEK = 0  # Sunday
# Year first: the date fields are <input type="date">, which send and show only that form.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
