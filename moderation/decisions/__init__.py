"""Acting on verdicts (DESIGN.md's last stages): people's decisions (services.py), rules
applied automatically (automatic.py), platform actions out to the platforms (actions.py),
and paging and safeguarding referrals (notify.py)."""
