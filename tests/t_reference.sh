# Acceptance: the reference opt-in study (data/, the repository's copy) reproduces the
# exact figures of scikit-learn's objective (--l2 1) and of the unpenalised
# MLE, and the tutorial's published figures within +-0.0005.
. "$TESTS/lib.sh"

[ -f "$REF_CSV" ] || { not_ok "reference data at $REF_CSV"; exit 0; }
csv2mp "$REF_CSV" >"$work/ref.mp"
flow() { # extra fitps args...
	fitps "${STUDY[@]}" "$@" <"$work/ref.mp" | weight --estimand ate,att | match --ties all |
		balance | report --json
}
flow --l2 1 >"$work/l2.json"
flow >"$work/mle.json"

# pick FILE RESULT KEY: a field of a named result
pick() { jget "$1" "[r for r in d['results'] if r['name'] == '$2'][0]$3"; }
coef() { jget "$1" "[t['coef'] for t in [r for r in d['results'] if r['name'] == 'ps_model'][0]['terms'] if t['term'] == '$2'][0]"; }
smd() { jget "$1" "[x['smd'] for x in [r for r in d['results'] if r['name'] == 'balance'][0]['table'] if x['covariate'] == '$2' and x['weight'] == '$3'][0]"; }

# scikit-learn's objective, C = 1 (exact optimum; sklearn 1.2.1 within 2e-5)
near "l2: intercept" "$(coef "$work/l2.json" '(intercept)')" 0.744082 1e-5
near "l2: query_confidence" "$(coef "$work/l2.json" query_confidence)" -0.197826 1e-5
near "l2: engagement_tier_light" "$(coef "$work/l2.json" engagement_tier_light)" -2.594928 1e-5
near "l2: engagement_tier_medium" "$(coef "$work/l2.json" engagement_tier_medium)" -1.207849 1e-5
near "l2: AUC" "$(pick "$work/l2.json" ps_model "['auc']")" 0.7443 1e-4
near "l2: IPW ATE" "$(pick "$work/l2.json" ipw_ate "['estimate']")" 0.08493 1e-4
near "l2: IPW ATT" "$(pick "$work/l2.json" ipw_att "['estimate']")" 0.07684 1e-4
near "l2: SMD heavy raw" "$(smd "$work/l2.json" engagement_tier_heavy raw)" 0.7416 1e-4
near "l2: SMD heavy ATE-weighted" "$(smd "$work/l2.json" engagement_tier_heavy w_ate)" 0.0010 1e-4
near "l2: SMD query_confidence raw" "$(smd "$work/l2.json" query_confidence raw)" -0.0317 1e-4
near "l2: SMD query_confidence ATE-weighted" "$(smd "$work/l2.json" query_confidence w_ate)" -0.0049 1e-4
near "l2: ps min treated" "$(pick "$work/l2.json" ps_model "['ps_range']['treated'][0]")" 0.1142 1e-4
near "l2: ps max treated" "$(pick "$work/l2.json" ps_model "['ps_range']['treated'][1]")" 0.6743 1e-4
near "l2: ps max control" "$(pick "$work/l2.json" ps_model "['ps_range']['control'][1]")" 0.6717 1e-4
near "l2: 1-NN ATT, all ties averaged" "$(pick "$work/l2.json" match_att "['estimate']")" 0.07970 1e-4

# the unpenalised maximum-likelihood fit
near "mle: intercept" "$(coef "$work/mle.json" '(intercept)')" 0.747054 1e-5
near "mle: query_confidence" "$(coef "$work/mle.json" query_confidence)" -0.198849 1e-5
near "mle: engagement_tier_light" "$(coef "$work/mle.json" engagement_tier_light)" -2.598069 1e-5
near "mle: engagement_tier_medium" "$(coef "$work/mle.json" engagement_tier_medium)" -1.210440 1e-5
near "mle: AUC" "$(pick "$work/mle.json" ps_model "['auc']")" 0.7443 1e-4
near "mle: IPW ATE" "$(pick "$work/mle.json" ipw_ate "['estimate']")" 0.08480 1e-4
near "mle: IPW ATT" "$(pick "$work/mle.json" ipw_att "['estimate']")" 0.07667 1e-4
near "mle: SMD heavy ATE-weighted" "$(smd "$work/mle.json" engagement_tier_heavy w_ate)" 0.0000 1e-4
near "mle: SMD query_confidence ATE-weighted" "$(smd "$work/mle.json" query_confidence w_ate)" -0.0047 1e-4
near "mle: 1-NN ATT, all ties averaged" "$(pick "$work/mle.json" match_att "['estimate']")" 0.07970 1e-4
# R's Matching (ties=TRUE, zero tolerance) reports SE 0.0063
near "mle: Abadie-Imbens SE" "$(pick "$work/mle.json" match_att "['se']")" 0.0063 1e-4

# the tutorial's published figures, +-0.0005 (its solver stopped short)
near "published: naive difference" "$(pick "$work/l2.json" naive "['estimate']")" 0.2106 5e-4
near "published: AUC" "$(pick "$work/l2.json" ps_model "['auc']")" 0.744 5e-4
near "published: IPW ATE" "$(pick "$work/l2.json" ipw_ate "['estimate']")" 0.0851 5e-4
near "published: IPW ATT" "$(pick "$work/l2.json" ipw_att "['estimate']")" 0.0770 5e-4
cal() { jget "$work/l2.json" "[c['mean_ps'] for c in [r for r in d['results'] if r['name'] == 'ps_model'][0]['calibration'] if c['level'] == '$1'][0]"; }
near "published: mean ps heavy" "$(cal heavy)" 0.646 5e-4
near "published: mean ps light" "$(cal light)" 0.120 5e-4
near "published: mean ps medium" "$(cal medium)" 0.353 5e-4
near "published: SMD heavy raw" "$(smd "$work/l2.json" engagement_tier_heavy raw)" 0.742 5e-4
# Not checked against the published table: the weighted SMDs (+0.002,
# -0.003), which move with the tutorial's unconverged solver; the exact
# figures above are checked instead (data/README.md).
