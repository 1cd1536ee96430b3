"""What changes for the person (issue 15): GAS goals, reviews, closure, own resources and
activation of a plan; the overdue-review job; loaders for the outcome figures; erasure.

One module a job: `goals`, `reviews`, `closure`, `own_resources`, `activations`, `overview`
(the plan's outcomes at a glance and its next review's date), `follow_up` (the review
schedule and the overdue-review job), `erasure` (issue 19) and `loaders` (the facts of the
outcome figures). `rules` (who writes, the day in Italy) and `records` (a plan's records read
into what the API returns) serve them all. The Italian labels of the vocabularies are in
`schemas` (`vocabularies`).
"""
