"""The standard-setting room: the modified-Angoff core and the exercises judges rate
(bank.standard_setting)."""
