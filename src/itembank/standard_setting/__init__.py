"""The standard-setting room, behind bank.standard_setting: the modified-Angoff core and the
exercises that judges rate."""
