"""PLACEHOLDER (lead is writing it): critical initialisation."""
from dataclasses import dataclass
@dataclass(frozen=True)
class VanillaCriticalInit: pass
@dataclass(frozen=True)
class MinimalCriticalInit: pass
def critical_init_vanilla(q_star, phi="tanh", mu_b=0.0): raise NotImplementedError
def critical_init_minimal(T, delta=0.1, sigma_v=1.0, R=1.0, sigma_b=0.0): raise NotImplementedError
