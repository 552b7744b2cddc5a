"""Short explanations shown beside each panel, written for a student who knows
what an RNN is but not mean-field theory.

Each is a collapsible ``html.Details`` holding a ``dcc.Markdown`` with MathJax
(Dash 4 serves MathJax from its own bundle: no CDN). Provenance follows
``shared/theory.md`` section 0: [DER] derived and checked by simulation, [MEM]
a recollection of the paper that could not be confirmed.

Example
-------
>>> details("phase").className
'explain panel-explain'
"""

from __future__ import annotations

from dash import dcc, html

PROVENANCE = ("Derived in the project's specification (theory.md) and checked against "
              "finite-network simulations. The paper's own figure values could not be "
              "read: presets modelled on its figures are labelled “paper values unverified”.")

TEXT: dict[str, tuple[str, str]] = {
    "phase": ("What is this?", r"""
Each pixel is a random network at initialisation; colour is the **timescale ξ**
(log scale) over two parameters, and ★ is the current point.

A signal entering at step $t$ changes later states by a factor of roughly $\chi$ per step, so it is
felt for about
$$\xi = -\frac{1}{\ln \chi}\ \text{steps}.$$

* **Ordered** ($\chi<1$): differences die out; memory and gradients vanish beyond ξ steps.
* **Chaotic** ($\chi>1$): tiny differences grow; gradients explode.
* **Critical** ($\chi=1$): ξ diverges; signals and gradients propagate over long sequences.

$\xi_{\rm jac}$ (from $\chi_{\rm jac}$, the mean squared singular value of
$\partial h_t/\partial h_{t-1}$) governs **gradients**; $\xi_c$ governs the **memory** of an
input difference.
The white dashed curve $T = k\,\xi$ marks where training should still work: by default $k$
is the one measured for this architecture (the Trainability panel, where a map is shipped),
else $k = 6$ after Schoenholz et al. 2017 (the paper's $k$ is unverified). Measured k are
fitted on $\tau_{\rm jac}$ (below), which predicted the trained networks at least as well as
$\xi_c$ on every shipped map and clearly better on the vanilla RNN's; the legend names the
timescale.
On the chaotic side $\xi_{\rm jac}=\infty$, yet gradients *grow* by $\chi_{\rm jac}$ per step:
there the ξ_jac diagram shows the growth time $\tau_{\rm jac} = 1/\ln\chi_{\rm jac}$ (hover says
which), so the trainable band $T < k\,\tau_{\rm jac}$, $\tau_{\rm jac}=1/|\ln\chi_{\rm jac}|$,
closes around the critical line from both sides.

**Why the gate helps.** The vanilla RNN is critical only on the *line* $\chi_1 = 1$; with
independent inputs (Σ < 1) ξ_c stays finite everywhere. In the minimalRNN a large gate bias $\mu_b$
keeps the gate $u\approx1$, so $\chi_J\to1^-$ for *every* σ_w:
$\xi_J \approx \tfrac12 e^{\mu_b - q^*/2}$ grows exponentially with μ_b — a **broad region**
of long memory rather than a fine-tuned line (bounded by a saddle-node where the state jumps
to a chaotic branch). \[DER, theory.md §3.4, §4.3\]

**GRU and LSTM.** The memory gate — the GRU's update gate $z$ in
$h_t = z\,h_{t-1} + (1-z)\,n$, the LSTM's forget gate $f$ in $c_t = f\,c_{t-1} + i\,g$ —
plays the minimalRNN's $u$: its bias mean is $\mu_b$, and a large one keeps the gate near 1,
$\xi \approx \tfrac12 e^{\mu_b - q/2}$ (gated-cells.md §3.7, §4.7). The GRU then has a broad
long-memory region bounded by a saddle-node; the LSTM's cell is a near-perfect integrator, so
a large forget bias pushes it *towards* chaos at fixed σ_w (its critical σ_w falls with μ_f).
◇ marks where **PyTorch, Keras and Flax** initialise the cell at width N (hover for χ_jac,
ξ_jac at the default's own σ_v, σ_b): all sit deep in the ordered phase with ξ_jac ≈ 1–2
steps — the Keras LSTM's forget bias 1 only reaches 1.6 (§7).
These numbers are the **untied mean field**: exact if W were redrawn at every step.
Real networks reuse W (*tied*), which correlates successive steps: they forget 15–30 % more
slowly, and in the **orange-hatched region** (ρ_tied > 0.3 or σ_b > 0.2, eq. 2.5) their
variances differ strongly, up to ×6.7 in Q and ×25 in the LSTM cell variance (§2.3).
\[DER, gated-cells.md §2–4, §7\]
"""),
    "spectrum": ("What is this?", r"""
The density of singular values $s$ of the $T$-step Jacobian
$\mathcal J_T = J_T\cdots J_1$, with $J_t = D_tW$ for the vanilla RNN.
Its mean square is exact in mean field: $m_1 = \chi^T$.
**Dynamical isometry** means all $s \approx 1$: every direction of the gradient survives.

* **Vanilla, exact** in the large-N limit (free probability, untied weights):
  $S_{\mathcal J\mathcal J^\top} = (S_{D^2}\,S_{WW^\top})^T$. Gaussian W adds spread at every
  step, so even at χ = 1 the spectrum widens like T; orthogonal W is needed.
* **minimalRNN, approximate**: only $m_1$ is exact; the spread uses a free-factor
  approximation, and the histogram of a sampled (tied) network is the check.
  Tied minimalRNNs can deviate from the untied mean field near the critical line.
* **GRU, approximate** (untied mean field, free factors: gated-cells.md §5.3); **LSTM:
  moments only** — its Jacobian has 2×2 blocks (δc, δh), no density is derived, so only
  $\sqrt{m_1}$ is marked; sample a network for the histogram (§5.2).

\[DER, theory.md §5, §6; paper's spectra figure unverified\]
"""),
    "readout": ("What are these?", r"""
Fixed points of the mean-field maps at ★: $q^*$ (pre-activation variance),
$c^*$ (correlation between two input sequences), and their slopes $\chi$.
Each timescale is $\xi = -1/\ln\chi$, shown as ∞ when $\chi \ge 1$; "T < k·τ_jac"
uses $\tau_{\rm jac} = 1/|\ln\chi_{\rm jac}|$, the growth time of gradients when chaotic.
Vanilla:
$$q_t = \sigma_w^2\,\mathbb E[\phi(\sqrt{q_{t-1}}z)^2] + \sigma_v^2R + \sigma_b^2 .$$
\[DER, theory.md §3\]

**GRU and LSTM** (untied mean field, gated-cells.md §2.2): $q^*$ is the memory gate's
pre-activation variance, $Q^*$ the state's second moment; the LSTM adds its cell,
$Q_c^* = \mathbb E[i^2]\mathbb E[g^2]/(1-\mathbb E[f^2])$ (§4.1), and $C_c^*$, with
$\mathbb E[\tanh^2 c]$ from a Gaussian closure (GC, error ≤ 2.4 % in Q*; GC4 cuts it
tenfold, §4.4). $\rho_{\rm tied} = \xi_{\rm mem}\,\sigma_w^2Q^*/q_c^*$ (eq. 2.5) measures
how much of the candidate's input is the network's own slowly varying state: above 0.3 real
(tied) networks deviate strongly, and a warning gives the sizes measured on them (§2.3).
"""),
    "memory": ("What is this?", r"""
Left: the timescales $\xi_c, \xi_{\rm jac}, \xi_q$ along a cut through ★ (the phase
diagram's x parameter); above the line $\xi = T/k$ a length-T sequence should be trainable.
Right: $C_t$ and $q_t/q^*$ of two sequences started from $h_0 = 0$, relaxing to their fixed
points (dotted: the prediction $e^{-t/\xi}$).
A correlation that relaxes slowly means the network remembers which input it saw.
Finite networks near criticality decay as a power law at first, so a fitted χ reads < 1
even at χ = 1. \[DER, theory.md §3–4, §10\]

**Simulate a real network** runs one network of width N (seed) with **tied** weights, the
same W at every step, and draws its measured $C_t$ (○) and $q_t/q^*$ (□) over the curves. For
the GRU and the LSTM the curves are the untied mean field: at long memory the tied cell
variance can be ×25 the untied one and $C_t$ collapses (gated-cells.md §2.3).
"""),
}


#: Panel names shown in the header of each explanation card.
PANEL_NAMES = {"phase": "Phase diagram", "spectrum": "Jacobian spectrum",
               "readout": "Read-out at ★", "memory": "Memory depth"}


def details(panel: str) -> html.Details:
    """Collapsible explanation of ``panel`` (a key of :data:`TEXT`).

    Only the summary sits in the panel; the opened text is a card in a drawer
    over the side bar (``assets/style.css``), so opening it never shrinks a
    plot. ``assets/explain.js`` keeps one explanation open at a time and closes
    it with the card's button or Escape.
    """
    summary, body = TEXT[panel]
    return html.Details(className="explain panel-explain", id=f"explain-{panel}", children=[
        html.Summary(summary),
        html.Div(className="explain-card", role="region",
                 **{"aria-label": f"Explanation: {PANEL_NAMES[panel]}"}, children=[
            html.Div(className="explain-card-head", children=[
                html.Span(PANEL_NAMES[panel], className="explain-card-title"),
                html.Button("×", className="btn explain-close", title="Close (Esc)",
                            **{"aria-label": "Close the explanation"})]),
            dcc.Markdown(body, mathjax=True, className="explain-body"),
            html.P(PROVENANCE, className="provenance"),
        ]),
    ])
