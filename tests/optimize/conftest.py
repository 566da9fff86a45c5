"""The timesheet suite's fixtures for every optimize test (defined in timesheets.py)."""

from tests.optimize.timesheets import timesheet_cases, timesheet_skills, trial_settings

__all__ = ["timesheet_cases", "timesheet_skills", "trial_settings"]
