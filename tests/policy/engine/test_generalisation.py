"""Does the default rule set generalise beyond the dev set?

A hand-written set of comments of the kinds a comms team meets on NHS Facebook, Instagram,
YouTube and X posts, labelled against the policy (sections 4, 9, 10 and DESIGN.md). None of
these sentences is quoted by a rule: the rules describe ideas, these are paraphrases of them,
many of them hard negatives (idioms, opinions, neutral mentions) that must stay up.

Each case: text, flag (True = should leave public view, False = must stay up, None = either),
escalation (a value, a tuple of acceptable values, or None = any), signpost (likewise), key
category (must be among the verdict's categories; None = not checked), out_of_hours.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

LONDON = ZoneInfo("Europe/London")
WORKING = datetime(2026, 3, 4, 10, 0, tzinfo=LONDON)  # a Wednesday, 10:00
OUT_OF_HOURS = datetime(2026, 3, 7, 23, 30, tzinfo=LONDON)  # a Saturday night

URG = "urgent"  # becomes duty_manager out of hours
SG = "safeguarding"


def C(text, flag=False, esc="none", sign="none", cat=None, ooh=False):
    return (text, flag, esc, sign, cat, ooh)


CASES = [
    # ---- crisis, direct and indirect ------------------------------------------------------
    C("Honestly I don't see the point of living any more, nobody would notice if I was gone",
      None, URG, "crisis", "crisis"),
    C("everyone would be better off without me tbh", None, URG, "crisis", "crisis"),
    C("I took a load of pills about an hour ago and I feel really weird", None, URG, "crisis",
      "crisis"),
    C("just want to disappear forever and never wake up", None, URG, "crisis", "crisis"),
    C("can't cope anymore. done with all of it", None, URG, "crisis", "crisis"),
    C("there's no reason for me to go on, I've lost everything", None, URG, "crisis", "crisis"),
    C("I keep thinking about ending things. The mental health team never ring back", None, URG,
      "crisis", "crisis"),
    C("feel like jumping off the bridge tonight, whats the point", None, URG, "crisis", "crisis"),
    C("been cutting again and i cant stop", None, URG, "crisis", "crisis"),
    C("i dont want to be alive anymore", None, URG, "crisis", "crisis"),
    C("Tonight's the night I finally end it. Sorry to my family", None, URG, "crisis", "crisis"),
    C("Whats the point in anything anymore, I'm just a burden to everyone", None, URG, "crisis",
      "crisis"),
    C("I've written my goodbye letters, I'm ready", None, URG, "crisis", "crisis"),
    C("I wish I could go to sleep and never wake up", None, URG, "crisis", "crisis"),
    C("got the rope sorted and I'm not scared anymore", None, URG, "crisis", "crisis"),
    C("my son is 15 and keeps saying he wants to kill himself, CAMHS won't see him for months",
      None, (URG, SG), "crisis", "crisis"),
    C("I'm so tired of living like this, I want it all to stop", None, URG, "crisis", "crisis"),
    C("cant take it no more x", None, URG, "crisis", "crisis"),
    C("nobody would care if i died tonight", None, URG, "crisis", "crisis", ooh=True),
    C("thinking of swallowing every tablet in the house", None, URG, "crisis", "crisis"),
    C("I hurt myself again last night, my arms are a mess", None, URG, "crisis", "crisis"),
    C("I'm going to take my own life this weekend", None, URG, "crisis", "crisis", ooh=True),
    C("life isnt worth it anymore, i give up", None, URG, "crisis", "crisis"),
    # crisis hard negatives
    C("If you're struggling please call the 24hr helpline 0800 001 4331, it saved my life"),
    C("Great to see suicide prevention training for GPs being rolled out across the county"),
    C("The wait in A&E is killing me, 3 hours so far lol", False, "none", None),
    C("I'm dying to see the new health centre open"),
    C("this heat is killing me, hope the wards have fans"),
    C("My mum died peacefully on ward 3 last week, thank you to all the nurses"),
    C("Can't cope with how good this bake sale looks"),
    C("Men's mental health week: talking about suicide saves lives. Please reach out."),
    C("The documentary on the history of suicide prevention in the NHS was brilliant"),
    C("I could kill for a coffee after that night shift"),
    C("The young people's helpline is 0800 234 6342, please share with anyone who needs it"),
    C("Dying of boredom in the waiting room but the staff are doing their best"),
    C("I nearly died laughing at the staff panto video"),
    # ---- safeguarding ---------------------------------------------------------------------
    C("My neighbour's kids are left alone all weekend and they look starving, who do I tell?",
      None, SG, None, "safeguarding"),
    C("the little boy next door always has bruises and his dad screams at him every night",
      None, SG, None, "safeguarding"),
    C("My sister's husband checks her phone, controls all her money and won't let her see us",
      None, SG, None, "safeguarding"),
    C("a grown man keeps sending my 13 year old daughter messages on snapchat asking to meet up",
      None, SG, None, "safeguarding"),
    C("My nan's carer has been taking money out of her bank account", None, SG, None,
      "safeguarding"),
    C("I think my friend is being hit by her boyfriend, she's always covering up marks", None,
      SG, None, "safeguarding"),
    C("There are kids in that house who never go to school and the place stinks, I'm really "
      "worried about them", None, SG, None, "safeguarding"),
    C("my dad in the care home has unexplained bruises and staff won't say how he got them",
      None, (SG, URG), None, None),
    C("a man round here gets young lads to run packages for him and pays them with phones and "
      "trainers", None, SG, None, "safeguarding"),
    C("My vulnerable brother has people living in his flat who take his benefits and deal from "
      "there", None, SG, None, "safeguarding"),
    C("my mums partner hits her when he's drunk and she's too scared to leave", None, SG, None,
      "safeguarding"),
    C("My friend's 14 year old daughter is seeing a 25 year old man and her mum doesn't care",
      None, SG, None, "safeguarding"),
    C("she isn't allowed out of the house without him and he's taken her passport", None, SG,
      None, "safeguarding"),
    C("The baby next door screams for hours and nobody ever comes, I haven't seen the mum in "
      "days", None, SG, None, "safeguarding"),
    C("a teacher at my son's school has been sending him private messages on instagram", None,
      SG, None, "safeguarding"),
    C("my stepdad hurts me and i'm scared to go home tonight", None, SG, None, "safeguarding",
      ooh=True),
    C("the old lady upstairs hasn't been fed properly in weeks, her son just takes her pension",
      None, SG, None, "safeguarding"),
    # safeguarding hard negatives
    C("Great safeguarding training today with the ICB team, thank you"),
    C("Domestic abuse awareness week: the helpline is there for anyone who needs it"),
    C("My kids stayed with grandma for the weekend and had a brilliant time"),
    C("Child abuse is the worst crime there is, glad the NSPCC exists", False, "none", None),
    # ---- patient safety -------------------------------------------------------------------
    C("Ward 4 at Lincoln County has had no nurse on for hours tonight and a patient has fallen",
      False, URG, None, "patient_safety"),
    C("my dad has been on a trolley in A&E for 14 hours and nobody has given him his insulin",
      False, URG, None, "patient_safety"),
    C("Nights on the stroke unit are so short staffed that buzzers go unanswered for an hour",
      False, URG, None, "patient_safety"),
    C("They gave my mum the wrong tablets twice this week on ward 7", False, URG, None,
      "patient_safety"),
    C("the fire exit at the back of the day unit is blocked with beds and boxes", False, URG,
      None, "patient_safety"),
    C("C diff on the ward and they're still putting new patients in that bay", False, URG, None,
      "patient_safety"),
    C("the oxygen on my dad's ward has been broken for 3 days", False, URG, None,
      "patient_safety"),
    C("Elderly man left sitting in soiled sheets for 6 hours at Pilgrim", False, URG, None,
      "patient_safety"),
    C("No doctor on the ward all weekend and patients are deteriorating", False, URG, None,
      "patient_safety"),
    C("mum fell out of bed twice last night, no bed rails and no one checking on her", False,
      URG, None, "patient_safety"),
    C("Ambulance took 9 hours to come for my grandad, he was on the kitchen floor all night",
      False, URG, None, "patient_safety"),
    C("they discharged a confused 90 year old at 2am in a taxi with nobody at home", False, URG,
      None, "patient_safety"),
    C("nurses are being told to look after 15 patients each on nights, someone is going to die",
      False, URG, None, "patient_safety"),
    C("Needles left lying around in the children's waiting area", False, URG, None,
      "patient_safety"),
    C("my brother had sepsis and was sent home with paracetamol, ended up in ICU", False, URG,
      None, "patient_safety"),
    C("There's water pouring through the ceiling on the maternity ward right onto the sockets",
      False, URG, None, "patient_safety", ooh=True),
    C("my husband was given penicillin even though his allergy band says penicillin", False, URG,
      None, "patient_safety"),
    C("the mental health ward has no staff on tonight and a patient has gone missing", False,
      URG, None, "patient_safety", ooh=True),
    # patient safety hard negatives
    C("my nan fell over but the paramedics were brilliant, thank you"),
    C("Staff shortages are a national problem, the government needs to fund the NHS properly"),
    C("Waiting lists are far too long, it's a disgrace"),
    C("Fire safety training day at the hospital today, well done team"),
    C("Brilliant care on ward 5, the nurses never left my dad on his own"),
    C("My nan was a nurse in the 60s, she says the wards were cleaner back then"),
    C("dad slipped on ice outside Tesco, the minor injuries unit sorted him in an hour, "
      "fantastic"),
    # ---- threats and violence -------------------------------------------------------------
    C("Someone should burn the ICB offices down with the managers inside", True, URG, None,
      "threat"),
    C("I'll find you and you'll regret it", True, URG, None, "threat"),
    C("watch your back when you leave work tonight, we know what car you drive", True, URG, None,
      "threat"),
    C("next time that receptionist is rude I'm bringing a knife", True, URG, None, "threat"),
    C("somebody needs to put a bullet in the chief exec", True, URG, None, None),
    C("if my mum dies I will come down there and smash every one of you", True, URG, None,
      "threat"),
    C("petrol through the letterbox is what that GP deserves", True, URG, None, None),
    C("That doctor wants stabbing", True, URG, None, None),
    C("I'm going to wait in the car park for that nurse after her shift", True, URG, None,
      "threat"),
    C("Hope someone bombs the place", True, URG, None, None),
    C("Keep it up and see what happens to you", True, URG, None, "threat"),
    C("one day someone's going to shoot up that hospital and I won't blame them", True, URG,
      None, None),
    C("bring a bat next time lads and sort them out", True, URG, None, None),
    C("Im coming up to the hospital tonight with my lads to sort that security guard out", True,
      URG, None, "threat", ooh=True),
    C("someone ought to torch that surgery", True, URG, None, None),
    C("the manager who closed our unit deserves a brick through his window", True, URG, None,
      None),
    # threat hard negatives
    C("Fire the CEO and the whole board, these budget decisions are shocking"),
    C("What a bomb of a week, the vaccine clinic was packed"),
    C("shoot me a message if you want the details of the sponsored walk"),
    C("We're going to smash our fundraising target for the hospice!"),
    C("Killing it with the new booking system, well done"),
    C("Let's kill the virus, get your booster"),
    C("I'm going to fight this decision all the way, see you at the council meeting"),
    C("Blow up some balloons for the children's ward party!"),
    C("The new urgent care centre is the bomb"),
    C("Our nurses deserve a medal and a pay rise"),
    # ---- reputation -----------------------------------------------------------------------
    C("This video of a nurse shouting at an old lady is being shared everywhere", False, URG,
      None, "reputation"),
    C("I'm a whistleblower at the trust and management are hiding deaths", False, URG, None,
      "reputation"),
    C("They covered up my baby's death and I'm going to the papers", False, URG, None,
      "reputation"),
    C("This has been trending all day, the footage from A&E is horrific", False, URG, None,
      "reputation"),
    C("Leaked emails show the ICB knew about the failings for years", False, URG, None,
      "reputation"),
    C("Going to the Daily Mail tomorrow with the photos from the mental health unit", False, URG,
      None, "reputation", ooh=True),
    C("clip of staff laughing at a dying man has over a million views on tiktok", False, URG,
      None, "reputation"),
    # ---- staff targeting and abuse --------------------------------------------------------
    C("Nurse Kelly on ward 6 is a lazy cow who shouldn't be allowed near patients", True, None,
      None, None),
    C("Dr Patel at the Boston surgery is a useless quack and a liar", True, None, None, None),
    C("you lot are a bunch of clueless idiots", True, None, None, "abuse"),
    C("the comms team are absolute morons", True, None, None, "abuse"),
    C("whoever runs this page is a brain dead clown", True, None, None, None),
    C("Sharon on reception is a nasty piece of work, everyone hates her", True, None, None,
      None),
    C("go and cry somewhere else you pathetic little man", True, None, None, None),
    # ---- hate -----------------------------------------------------------------------------
    C("Foreign nurses are dirty and shouldn't be allowed to touch British patients", True, None,
      None, "hate"),
    C("muslims are vermin", True, None, None, "hate"),
    C("Immigrants are a plague on this country and should be sent back", True, None, None,
      "hate"),
    C("trans people are mentally ill freaks", True, None, None, "hate"),
    C("I'd never let a black doctor treat me, they're all incompetent", True, None, None,
      None),
    C("gays spread disease, keep them away from the blood bank", True, None, None, "hate"),
    C("disabled people are a drain on the NHS", True, None, None, "hate"),
    C("Gypsies are thieves, lock your cars near the hospital", True, None, None, "hate"),
    C("Polish carers are filthy animals", True, None, None, "hate"),
    # hate hard negatives
    C("Proud of our Muslim doctors and nurses working through Ramadan"),
    C("Great to see the LGBT health clinic open in Lincoln"),
    C("Black women are more likely to die in childbirth, this needs to change"),
    C("Immigrants keep the NHS running, thank you to all our overseas nurses"),
    C("As a gay man I felt really respected at the sexual health clinic"),
    C("Disabled people face long waits for wheelchairs, this is unfair"),
    C("Calling nurses 'immigrants' as an insult is racist and wrong"),
    C("Women should be able to get HRT without a fight"),
    C("The trans clinic waiting list is five years long, that's a scandal", False, None, None),
    # ---- profanity ------------------------------------------------------------------------
    C("f*cking joke of a service", True, None, None, "profanity"),
    C("this is absolute sh1te", True, None, None, "profanity"),
    C("what a load of b0ll0cks", True, None, None, "profanity"),
    C("sort the parking out you bunch of c u n t s", True, None, None, None),
    C("wtf is this wait", True, None, None, "profanity"),
    C("fuuuuck the waiting list", True, None, None, "profanity"),
    # profanity hard negatives
    C("Scunthorpe General's new wing looks great"),
    C("Cocktail evening raised £2k for the Penistone hospice"),
    C("bloody ridiculous parking charges again"),
    C("Reading Dickens to patients on the dementia ward, what a lovely idea"),
    # ---- personal information -------------------------------------------------------------
    C("Her NHS number is 943 476 5919 if anyone can chase it", True, None, None,
      "personal_info"),
    C("Dr Smith lives at 14 Station Road, Sleaford", True, None, None, "personal_info"),
    C("email me at jane.doe1987@gmail.com about my referral", True, None, None,
      "personal_info"),
    C("Call 111 or 0303 123 4000 if you need help out of hours"),
    # ---- advertising and spam -------------------------------------------------------------
    C("Earn £500 a day from home, DM me for details", True, None, None, "advertising"),
    C("Check out my channel for daily vlogs!!", True, None, None, "advertising"),
    C("Bitcoin investment opportunity, 300% returns guaranteed, whatsapp me", True, None, None,
      "advertising"),
    C("Cheap sunglasses 80% off today only", True, None, None, "advertising"),
    C("Want fillers? Message me for prices", True, None, None, "advertising"),
    C("Follow me for free followers", True, None, None, "advertising"),
    # ---- concerns that stay up ------------------------------------------------------------
    C("I want to make a formal complaint about the way my dad was treated in A&E", False,
      "none", "complaints", "complaint"),
    C("How do I complain about my GP surgery? Receptionist was so rude", False, "none",
      "complaints", "complaint"),
    C("The receptionist was dismissive and hung up on me", False, "none", "complaints",
      "complaint"),
    C("Can I take ibuprofen with my blood pressure tablets?", False, "none", "clinical",
      "clinical_question"),
    C("Is it safe to have the flu jab while pregnant?", False, "none", "clinical",
      "clinical_question"),
    C("how long after my booster can I give blood?", False, "none", "clinical",
      "clinical_question"),
    C("Is a temperature of 38.5 normal after the jab?", False, "none", "clinical",
      "clinical_question"),
    C("Why has my mum's operation been cancelled twice? Nobody will tell us anything", False,
      "none", ("individual_care", "complaints"), "individual_care"),
    C("Still waiting for my MRI results from March, can someone chase this please", False,
      "none", "individual_care", "individual_care"),
    C("Hi, I'm a reporter at Lincolnshire Live, could your press office call me about the "
      "closure?", False, "none", "media", "media"),
    C("BBC Radio Lincolnshire here - would anyone be available for an interview tomorrow?",
      False, "none", "media", "media"),
    C("My solicitor will be in touch about the negligence in my wife's care", False, "none",
      "legal", "legal"),
    C("We're taking legal action against the trust over what happened to my son", False,
      "none", "legal", "legal"),
    # ---- general hard negatives: opinions, thanks, questions ------------------------------
    C("The ICB is wasting money on managers while frontline staff struggle"),
    C("Worst decision ever closing the Louth minor injuries unit"),
    C("Absolutely disgraceful that Grantham A&E is still not open 24 hours"),
    C("Government has broken the NHS, vote them out"),
    C("Thank you to the amazing team at Lincoln County, you saved my life"),
    C("Shout out to the nurses on ward 2, absolute angels"),
    C("Does anyone know what time the vaccine bus is in Spalding tomorrow?"),
    C("The new app is rubbish, it keeps crashing"),
    C("Management haven't got a clue, scrap the whole board"),
    C("Booked my jab, easy peasy"),
    C("I'd kill for a GP appointment that isn't three weeks away lol"),
    C("our team smashed it at the charity run"),
    C("Great advice about strokes - acting FAST saves lives"),
    C("Fantastic that the new mental health crisis cafe is open in Boston"),
    C("my dad fell in the garden, 111 were brilliant and got him seen quickly"),
    C("Why is parking £4 an hour at Pilgrim? Daylight robbery", False, "none", None),
    C("This campaign is pointless, nobody reads these posts"),
    C("Great news about the new cancer centre, about time"),
    C("Staff deserve a pay rise not claps"),
    C("Just had my smear test, the nurse was so kind. Ladies don't put it off!"),
    C("Kids loved the teddy bear hospital day"),
    C("can't wait to see the new maternity unit"),
    C("I've lost 3 stone on the NHS diet programme, can't recommend it enough"),
    C("Fire the whole board and put nurses in charge"),
    C("The ward was short staffed but the nurses were lovely to my mum", False, None, None),
    C("Had my knee done at Grantham, in and out the same day, the team were superb"),
    C("Covid nearly killed my dad in 2020, the ICU staff are heroes"),
    C("When will the walk-in centre reopen at weekends?", False, "none", None),
    # ---- second batch, written later without looking at the rules -------------------
    C('i really feel like there is no way out of this and i want to stop existing', None, URG, "crisis", 'crisis'),
    C("sorry everyone, I won't be around much longer", None, URG, "crisis", 'crisis'),
    C('ive got a bottle of vodka and my nans tablets and im done', None, URG, "crisis", 'crisis'),
    C('I just want the pain to end permanently', None, URG, "crisis", 'crisis'),
    C("my girlfriend just texted me saying goodbye and now she won't answer", None, URG, "crisis", 'crisis'),
    C("I don't think I'll make it to the weekend, I'm so done with life", None, URG, "crisis", 'crisis'),
    C('everyone hates me and the world would be a better place without me', None, URG, "crisis", 'crisis'),
    C("my friend told me she's been self harming and I don't know what to do", None, URG, "crisis", 'crisis'),
    C("my partner punched me again last night and I'm scared he'll find out I posted", None, SG, None, 'safeguarding'),
    C("my gran's new boyfriend has moved in and she's signed her house over to him", None, SG, None, 'safeguarding'),
    C("there's a girl in my daughter's class who comes to school covered in bruises", None, SG, None, 'safeguarding'),
    C('my uncle touched me when I was little and he still babysits my cousins', None, SG, None, 'safeguarding'),
    C('the staff at the care home shout at the residents and lock them in their rooms', None, (SG, URG), None, None),
    C('my dad was left without food or water for a whole day on ward 9', False, URG, None, 'patient_safety'),
    C('Only two nurses for the whole of the surgical ward last night, it was chaos and a man collapsed', False, URG, None, 'patient_safety'),
    C('the ambulance never came and my mum lay on the bathroom floor for seven hours', False, URG, None, 'patient_safety'),
    C('they nearly operated on the wrong knee', False, URG, None, 'patient_safety'),
    C('the pharmacy gave my son ten times the dose he should have had', False, URG, None, 'patient_safety'),
    C("There's black mould all over the walls of the children's ward", False, URG, None, 'patient_safety'),
    C('my wife was in labour and nobody came for 3 hours despite us pressing the buzzer', False, URG, None, 'patient_safety'),
    C('the locked doors on the dementia unit are broken and patients keep wandering out', False, URG, None, 'patient_safety'),
    C('whoever made this decision, I hope you burn in your bed', True, URG, None, None),
    C("one of these days someone will go in there with a knife and I won't be sorry", True, URG, None, 'threat'),
    C('tell the chief exec we know where he parks', True, URG, None, 'threat'),
    C("if that doctor ever touches my kid again I'll break his legs", True, URG, None, 'threat'),
    C('gonna torch the place', True, URG, None, 'threat'),
    C('somebody should run the health secretary over', True, URG, None, None),
    C('the whole of TikTok has seen what your staff did to my grandad', False, URG, None, 'reputation'),
    C("I've got recordings of the manager telling staff to fake the figures", False, URG, None, 'reputation'),
    C('the Lincolnshire Echo is running my story about the maternity deaths on Monday', False, URG, None, None),
    C('that receptionist at Ruskington is a fat useless witch', True, None, None, None),
    C("you're all a pack of liars and thieves", True, None, None, None),
    C("Asians shouldn't be allowed to work in the NHS", True, None, None, 'hate'),
    C("send all the foreign doctors home, they can't even speak English", True, None, None, 'hate'),
    C('that new mental health campaign is brilliant, more people need to hear it', False, 'none', None, None),
    C("The staff on the children's ward made my son's stay so much easier", False, 'none', None, None),
    C("I'm absolutely dying for the new GP surgery to open", False, 'none', None, None),
    C('terrible wait at the walk in centre, took 5 hours to be seen', False, 'none', None, None),
    C('If your child is being bullied, the school nurse can help - great post', False, 'none', None, None),
    C("My nan lives alone and the community nurses check on her every day, they're fab", False, 'none', None, None),
    C('The government should be ashamed of the state of mental health services', False, 'none', None, None),
    C('that video made me cry, well done to the team', False, 'none', None, None),
    C('I lost my son to suicide in 2019, please share the helpline, it matters', False, 'none', None, None),
    C('Burn the red tape, let nurses nurse', False, 'none', None, None),
    C('What a stunning new hospital, blown away', False, 'none', None, None),
    C('The new A&E is a bomb site at the moment, hope they finish it soon', False, 'none', None, None),
    C('we should bomb the fundraising page with donations!', False, 'none', None, None),
    C('Need more nurses on the ward, give them a pay rise', False, 'none', None, None),
    C('I nearly fell off my chair when they said 2 year wait', False, 'none', None, None),
    C("Can't believe how quick the booster clinic was, in and out in 10 min", False, 'none', None, None),
    C('Watch out for the new parking rules at the hospital, they fined me', False, 'none', None, None),
    C('black history month event at the hospital was lovely', False, 'none', None, None),
    C('my daughter is 15 and has been struggling with anxiety, where can we get help?', False, None, None, None),
    # ---- written later, as a fresh check (each missed before the rule it names changed) ---
    C("there's a grown man in his 40s who keeps sending my 13 year old daughter messages on "
      "snapchat", None, SG, None, "safeguarding"),
    C("my neighbour's kids are left on their own all weekend, the youngest is about 4", None, SG,
      None, "safeguarding"),
    C("an older lad from the estate is getting my 14yo son to deliver packages for him", None,
      SG, None, "safeguarding"),
    C("a 30 year old man is dating my 15 year old niece and her parents don't care", None, SG,
      None, "safeguarding"),
    C("staff at the care home are locking residents in their rooms at night", None, SG, None,
      "safeguarding"),
    C("my dad won't let mum leave the house or see her friends, he takes her phone", None, SG,
      None, "safeguarding"),
    C("i honestly can't see a way out of this anymore, i've had enough of everything", None, URG,
      "crisis", "crisis"),
    C("I've saved up my tablets and I'm going to take them all tonight", None, URG, "crisis",
      "crisis"),
    C("no point carrying on, everyone would be happier if I wasn't here", None, URG, "crisis",
      "crisis"),
    C("patient with dementia walked out of A&E at 3am and nobody noticed for hours", None, URG,
      None, "patient_safety"),
    C("only one nurse on the whole ward last night for 30 patients", None, URG, None,
      "patient_safety"),
    C("I'll be waiting for that receptionist after her shift, she'll regret it", True, URG, None,
      "threat"),
    C("I know where the practice manager lives and I'm going round there", True, URG, None,
      "threat"),
    C("waited 6 hours in A&E with a broken wrist, absolutely shocking service, I want to complain",
      False, "none", "complaints", "complaint"),
    C("is it safe to take ibuprofen while I'm on sertraline?", False, "none", "clinical",
      "clinical_question"),
    C("I could murder a bacon sandwich after that night shift", False),
    C("my daughter was left on her own in the waiting room while I parked, staff were lovely",
      False, None),
    C("great talk today on spotting grooming and child exploitation, thanks to the safeguarding "
      "team", False),
    C("smashed my 5k PB this morning thanks to the couch to 5k group", False),
    C("Sitting in the garden watching the neighbours burn their garden waste again", False),
    C("John Smith on ward 4 has got HIV, everyone should know", True, cat="personal_info"),
    C("ring me on 07700 900461 about my mums appointment", True, cat="personal_info"),
    C("our practice number is 01522 123456 if you need an appointment", False),
    C("Nurse Kelly on ward 5 is lovely, she looked after my dad when he had a stroke", False),
    C("I've been waiting 14 months for my hip operation and still no date, this is a disgrace",
      False, "none", "complaints", "complaint"),
    C("there's a man in the car park at the hospital waving a knife around", None, URG, None,
      "patient_safety", ooh=True),
    C("my 3 year old has been left alone in the flat next door since this morning", None, SG,
      None, "safeguarding", ooh=True),
    C("a man pulled a gun on me outside the chippy last year, scariest night of my life", None,
      "none"),
]


def _ok(actual, expected):
    if expected is None:
        return True
    if isinstance(expected, tuple):
        return actual in expected
    return actual == expected


def _expected_escalation(esc, ooh):
    if esc is None:
        return None
    esc_t = esc if isinstance(esc, tuple) else (esc,)
    if ooh:
        esc_t = tuple("duty_manager" if e == URG else e for e in esc_t)
    return esc_t


def run_cases(matcher):
    rows = []
    for text, flag, esc, sign, cat, ooh in CASES:
        v = matcher.evaluate(
            text, platform="facebook", received_at=OUT_OF_HOURS if ooh else WORKING
        )
        rows.append(
            {
                "text": text,
                "flag": flag,
                "got_flag": v.action in ("hide", "delete", "block"),
                "esc": _expected_escalation(esc, ooh),
                "got_esc": v.escalation,
                "sign": sign,
                "got_sign": v.signpost,
                "cat": cat,
                "cats": v.categories,
                "rules": [r.id for r in v.rules],
            }
        )
    return rows


def score(rows):
    tp = sum(1 for r in rows if r["flag"] is True and r["got_flag"])
    fn = sum(1 for r in rows if r["flag"] is True and not r["got_flag"])
    tn = sum(1 for r in rows if r["flag"] is False and not r["got_flag"])
    fp = sum(1 for r in rows if r["flag"] is False and r["got_flag"])
    esc = [r for r in rows if r["esc"] is not None]
    sign = [r for r in rows if r["sign"] is not None]
    cat = [r for r in rows if r["cat"] is not None]
    return {
        "flag_ba": ((tp / max(1, tp + fn)) + (tn / max(1, tn + fp))) / 2,
        "recall": tp / max(1, tp + fn),
        "false_removals": fp,
        "escalation": sum(_ok(r["got_esc"], r["esc"]) for r in esc) / len(esc),
        "signpost": sum(_ok(r["got_sign"], r["sign"]) for r in sign) / len(sign),
        "category": sum(r["cat"] in r["cats"] for r in cat) / len(cat),
        "n": len(rows),
    }


def misses(rows):
    out = []
    for r in rows:
        problems = []
        if r["flag"] is not None and r["flag"] != r["got_flag"]:
            problems.append(f"flag {r['got_flag']}!={r['flag']}")
        if not _ok(r["got_esc"], r["esc"]):
            problems.append(f"esc {r['got_esc']}!={r['esc']}")
        if not _ok(r["got_sign"], r["sign"]):
            problems.append(f"sign {r['got_sign']}!={r['sign']}")
        if r["cat"] is not None and r["cat"] not in r["cats"]:
            problems.append(f"cat {r['cat']} not in {list(r['cats'])}")
        if problems:
            out.append(f"{'; '.join(problems):60} {r['rules']} | {r['text'][:90]}")
    return out


@pytest.fixture(scope="module")
def rows(matcher):
    return run_cases(matcher)


def test_set_is_big_and_balanced():
    assert len(CASES) >= 150
    assert len({c[0] for c in CASES}) == len(CASES), "duplicate case"
    assert sum(1 for c in CASES if c[1] is False) >= 60  # plenty of must-stay-up cases


def test_flag_balanced_accuracy(rows):
    s = score(rows)
    assert s["flag_ba"] >= 0.9, (s, misses(rows))


def test_no_false_removals(rows):
    bad = [r["text"] for r in rows if r["flag"] is False and r["got_flag"]]
    assert not bad, bad


def test_escalation_accuracy(rows):
    s = score(rows)
    assert s["escalation"] >= 0.9, (s, misses(rows))


def test_signpost_accuracy(rows):
    s = score(rows)
    assert s["signpost"] >= 0.9, (s, misses(rows))


def test_key_category_accuracy(rows):
    s = score(rows)
    assert s["category"] >= 0.85, (s, misses(rows))


# A few individual cases that document the ideas (paraphrases, not rule text).
@pytest.mark.parametrize(
    "text,escalation,signpost,category",
    [
        ("nobody would even notice if I wasn't here any more", "urgent", "crisis", "crisis"),
        ("I swallowed a whole box of tablets, sorry everyone", "urgent", "crisis", "crisis"),
        ("kids across the road get left on their own for days with no food", "safeguarding",
         None, "safeguarding"),
        ("patient on the floor for hours and not a single nurse on the ward", "urgent", None,
         "patient_safety"),
    ],
)
def test_indirect_concerns_are_raised(matcher, text, escalation, signpost, category):
    v = matcher.evaluate(text, received_at=WORKING)
    assert v.escalation == escalation, v.as_dict()
    if signpost:
        assert v.signpost == signpost, v.as_dict()
    assert category in v.categories, v.as_dict()


@pytest.mark.parametrize(
    "text",
    [
        "somebody should set fire to the trust HQ with the board still in it",
        "watch yourself in the car park, I know which one is yours",
    ],
)
def test_threats_are_removed_and_escalated(matcher, text):
    v = matcher.evaluate(text, received_at=WORKING)
    assert v.flagged and v.escalation == "urgent" and "threat" in v.categories, v.as_dict()


@pytest.mark.parametrize(
    "text",
    [
        "this queue is killing me",
        "shoot me a DM when the clinic times are out",
        "fire the chief executive, the cuts are a disgrace",
        "the paramedics were brilliant when my grandad fell",
        "please share the crisis line number, it could save a life",
        "I'd die for a decent cup of tea on this ward haha",
    ],
)
def test_idioms_and_opinions_stay_up_without_escalation(matcher, text):
    v = matcher.evaluate(text, received_at=WORKING)
    assert not v.flagged and v.escalation == "none", v.as_dict()


if __name__ == "__main__":  # print the table of misses: python tests/.../test_generalisation.py
    from policy.engine import compile_ruleset, load_default_document

    got = run_cases(compile_ruleset(load_default_document()))
    print(score(got))
    print("\n".join(misses(got)))
