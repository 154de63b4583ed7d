"""Django's own messages on our sign-up, login and password pages, translated in our catalogs.

Django ships no Tamil for most of them and no Hindi for some (the password validators' help and errors,
the user name's help, "Password confirmation"), and where it has Hindi it calls a password "कूटशब्द"
or "शब्दकूट" where the site says "पासवर्ड". Our catalogs (settings.LOCALE_PATHS) come before Django's,
so translating the same msgids there is enough. They are marked here only so that `makemessages` keeps
them in the catalogs; nothing imports this module. The msgids must stay exactly Django's (its curly
apostrophes included): tests/test_account_languages.py fails when one is no longer translated.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

DJANGO_ACCOUNT_MESSAGES = [
    # django.contrib.auth.models and .validators: the user name and e-mail fields
    gettext_noop("username"),
    gettext_noop("email address"),
    gettext_noop("Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only."),
    gettext_noop("A user with that username already exists."),
    gettext_noop("Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."),
    # django.contrib.auth.forms
    gettext_noop("Password"),
    gettext_noop("Password confirmation"),
    gettext_noop("Enter the same password as before, for verification."),
    gettext_noop("The two password fields didn’t match."),
    gettext_noop("Please enter a correct %(username)s and password. Note that both fields may be case-sensitive."),
    gettext_noop("This account is inactive."),
    gettext_noop("Email"),
    gettext_noop("Old password"),
    gettext_noop("New password"),
    gettext_noop("New password confirmation"),
    gettext_noop("Your old password was entered incorrectly. Please enter it again."),
    gettext_noop("Password-based authentication"),
    # django.contrib.auth.password_validation
    gettext_noop("The password is too similar to the %(verbose_name)s."),
    gettext_noop("Your password can’t be too similar to your other personal information."),
    gettext_noop("This password is too common."),
    gettext_noop("Your password can’t be a commonly used password."),
    gettext_noop("This password is entirely numeric."),
    gettext_noop("Your password can’t be entirely numeric."),
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        8,
    ),
    ngettext_lazy(
        "Your password must contain at least %(min_length)d character.",
        "Your password must contain at least %(min_length)d characters.",
        "min_length",
    ),
    # django.core.validators and django.forms
    gettext_noop("Enter a valid email address."),
    gettext_noop("This field is required."),
]
