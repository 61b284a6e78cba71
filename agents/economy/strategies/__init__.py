"""The economy's agents: service buyers, sellers, arbitrators and the reputation issuer."""
