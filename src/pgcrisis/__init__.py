"""pgcrisis: why has PostgreSQL seized up, and what do we do right now?"""

__version__ = "0.1.0"
