"""Agency copy can hold characters XML 1.0 has no way to write (JSON formats escape them). They
print as nothing, and one of them would otherwise fail a whole feed or sitemap."""

import re

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(value):
    """`value` (a string, or a list of them) without the characters XML cannot carry."""
    if isinstance(value, str):
        return _NOT_XML.sub("", value)
    if isinstance(value, (list, tuple)):
        return [xml_safe(v) for v in value]
    return value
