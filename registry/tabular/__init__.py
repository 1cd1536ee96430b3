"""The registry's one spreadsheet mechanism: CSV/XLSX in, validated rows out; CSV/XLSX out.

Every bulk import (funded interventions, holders, resources...) and every spreadsheet export
goes through this package, so people get the same rules and the same error report everywhere.
It does no database work: a service reads and validates here, then writes the rows itself
inside one `unit_of_work()`, and only when the report has no error (all or nothing).

Reading is in reading.py; validating and the report in validating.py; writing in writing.py.
"""
