"""Comment texts the simulator posts, reused from ../shared/eval/nhs_policy_dev.jsonl (DESIGN.md:
"examples to learn from"): ordinary, abusive, personal-information, safeguarding and crisis kinds,
so the demo queue looks like a real morning. The kind is the eval row's first category."""

TEXTS: list[tuple[str, str]] = [
    ('ordinary', 'The ICB keeps cutting services in Skegness and nobody listens to us. Disgraceful decision.'),
    ('ordinary', 'Pilgrim hospital parking charges are a rip off.'),
    ('complaint', 'Thanks for nothing, three months on the waiting list and still no letter.'),
    ('ordinary', 'Great to see the new diagnostic centre open in Grantham!'),
    ('ordinary', 'Shared with my family group, really useful info about the flu jab.'),
    ('ordinary', 'Is the spring booster open to over 75s yet?'),
    ('ordinary', 'My daughter had her jabs at the Sleaford clinic today, the nurse was lovely.'),
    ('ordinary', 'I had my hip done at Louth, cracking job by the surgeon, back walking the dog already.'),
    ('ordinary', 'Is the Assessment centre in Lincoln accessible by bus?'),
    ('profanity', 'absolute sh1t service from start to finish'),
    ('profanity', 'F U C K the NHS managers'),
    ('profanity', 'Total c*nts the lot of them'),
    ('profanity', 'Pr1cks running the hospital into the ground'),
    ('hate', "Muslims shouldn't be allowed to work on the wards"),
    ('hate', "Retards like you shouldn't be allowed to run a health service"),
    ('abuse', '@SarahJenkinsNHS you are a disgrace and a liar, everyone knows it'),
    ('abuse', 'Whoever runs this page is a moron'),
    ('staff_targeting', 'Nurse Kelly on ward 5 is a nasty piece of work, I know where she lives'),
    ('threat', "I'm coming to the Quayside office tomorrow and I'll smash every window. You've been warned."),
    ('threat', "i'll stab the next receptionist who tells me to ring back at 8am"),
    ('inappropriate_link', 'Real truth about vaccines here www.xvideos-free-clips.net/vax'),
    ('illegal_activity', 'Can get you fake sick notes for £20, message me'),
    ('personal_info', 'My neighbour Margaret Wilson was admitted with a stroke yesterday, NHS number 943 476 5919, can someone update her family?'),
    ('personal_info', 'Karen from the Spalding practice lives at 14 Acacia Avenue PE11 2AB, go and tell her what you think'),
    ('personal_info', 'my email is dave.thompson1962@gmail.com please contact me about my referral'),
    ('personal_info', 'My NHS no. is 4010232137, why has my appointment been cancelled?'),
    ('advertising', 'Earn £500 a day working from home!! Click the link in my bio 💰💰'),
    ('advertising', 'Follow @glowskin_clinic for botox deals this weekend!!'),
    ('safeguarding', "My stepdad hits me when mum is at work and I'm scared to go home"),
    ('safeguarding', 'a 40 year old bloke keeps messaging my 13 year old on here asking for pics'),
    ('safeguarding', "my friend says her boyfriend won't let her see a doctor and takes her money"),
    ('crisis', "I can't do this anymore, I just want to end it all tonight"),
    ('crisis', 'thinking of taking all my tablets at once, no one would miss me'),
    ('patient_safety', 'Grantham ward 2 has one nurse for 28 patients tonight, people are being left on the floor'),
    ('patient_safety', "The fire doors at Pilgrim A&E are chained shut, I've got photos"),
    ('clinical_question', 'Can I take ibuprofen after my covid booster?'),
    ('clinical_question', 'what dose of calpol can a 2 year old have'),
    ('individual_care', "Can you tell me why my dad's hip operation at Louth was cancelled on Friday?"),
    ('complaint', 'I want to make a formal complaint about the way my wife was treated in the discharge lounge'),
    ('media', 'Journalist at the Lincolnshire Echo here, could your press office comment on the ambulance delays?'),
    ('ordinary', '🙂🙂🙂'),
    ('ordinary', 'I think the comms team are doing their best in a tough job, leave them alone'),
]

# The demo's model-only crisis post (README "Model reader"): indirect wording no rule matches
# (`moderate --rules-only` allows it, no escalation) that the model reader escalates as
# crisis. Written for the demo, not an evaluation row. seed_demo and the simulator's backlog
# both post it, so `./dev run` always shows it.
MODEL_ONLY_CRISIS = "been putting a tablet aside from every prescription, nearly enough now"
