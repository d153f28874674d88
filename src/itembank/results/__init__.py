"""The results team's room, behind bank.results: delivered responses imported into a store kept
outside the content repository, item and test analysis, bias (DIF) screening, IRT calibration."""
