"""dps_sim: a simulator of a Dynamic Purchasing System for commissioning from charities."""

__version__ = "0.1.0"
