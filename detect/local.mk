# detect/: the rule engine (built with the detection issue).
