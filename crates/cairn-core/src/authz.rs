//! Authorisation: who may do what. Every handler asks here, and only here.
//!
//! Who may see an award is one rule too ([`Action::ViewAward`]): every surface that shows an
//! award (its page, the embed, the API, the downloads, the OB 2.0 hosted assertion, the
//! verifier's in-process loader) asks it.

use crate::award::{AwardStatus, Privacy};
use crate::ids::{OrganisationId, UserId};
use crate::organisation::OrganisationKind;
use std::fmt;

/// A member's role in an issuer organisation. Every user is also a learner; that needs no role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Runs the organisation: profile, members, keys, and everything staff may do.
    Owner,
    /// Authors, publishes and retires achievements.
    Staff,
    /// Assesses submissions; sees the organisation's drafts to know what is coming.
    Assessor,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Staff, Role::Assessor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Staff => "staff",
            Role::Assessor => "assessor",
        }
    }

    /// Parses `owner`, `staff` or `assessor`.
    ///
    /// # Errors
    /// A message quoting the value and listing the accepted ones.
    pub fn parse(raw: &str) -> Result<Role, String> {
        match raw.trim() {
            "owner" => Ok(Role::Owner),
            "staff" => Ok(Role::Staff),
            "assessor" => Ok(Role::Assessor),
            other => Err(format!("\"{}\" is not a role (owner, staff or assessor)", crate::invalid::clip(other))),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something done inside one organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrgAction {
    /// See the organisation's dashboard, drafts and retired achievements.
    ViewDrafts,
    /// Change the organisation's profile (name, URL, e-mail, description, image).
    EditProfile,
    /// Add, remove and change the roles of members.
    ManageMembers,
    /// Create and edit achievements, upload their images.
    Author,
    /// Publish and retire achievements.
    Publish,
    /// Assess submissions (the pool decides which).
    Assess,
    /// Run assessment: assessor pools, service window, fees and vouchers, confirm passes,
    /// revoke and suspend awards, read the audit trail.
    ManageAssessment,
    /// See who earned the organisation's awards (the learners' names in its awards table).
    /// Assessors never do: they judge work blind.
    ViewEarners,
    /// Agree that another organisation's certificate counts one of this organisation's
    /// achievements as a component (owners only: it speaks for the organisation).
    AgreeToComponents,
    /// Search, compare and shortlist the learners who chose to be found, and ask to contact
    /// them: an employer's owners and staff ([`Action::FindTalent`] adds that the organisation
    /// must be an employer).
    FindTalent,
    /// Decide a sampled submission whose two blind scorings disagree (owners and staff, who run
    /// assessment; never one of the two assessors, which `cairn_app::moderation` checks).
    Moderate,
    /// See the issuer's insight: submissions, pass rates, time to decision, assessor load, award
    /// use and inter-rater agreement (owners and staff; assessors judge, they do not oversee).
    ViewInsights,
    /// Register, change and delete webhook endpoints and read their delivery log (owners only:
    /// an endpoint sends the organisation's events to another system).
    ManageWebhooks,
    /// Connect and disconnect the organisation's Stripe account, through which learners pay
    /// fees online (owners only: it moves money).
    ManagePayments,
}

impl OrgAction {
    /// What only an issuer does: an employer's members may not, whatever their role. An employer
    /// keeps its profile and members, and finds talent.
    pub fn issuers_only(self) -> bool {
        use OrgAction::*;
        matches!(
            self,
            ViewDrafts
                | Author
                | Publish
                | Assess
                | ManageAssessment
                | ViewEarners
                | AgreeToComponents
                | Moderate
                | ViewInsights
                | ManageWebhooks
                | ManagePayments
        )
    }

    pub const ALL: [OrgAction; 14] = [
        OrgAction::ViewDrafts,
        OrgAction::EditProfile,
        OrgAction::ManageMembers,
        OrgAction::Author,
        OrgAction::Publish,
        OrgAction::Assess,
        OrgAction::ManageAssessment,
        OrgAction::ViewEarners,
        OrgAction::AgreeToComponents,
        OrgAction::FindTalent,
        OrgAction::Moderate,
        OrgAction::ViewInsights,
        OrgAction::ManageWebhooks,
        OrgAction::ManagePayments,
    ];
}

/// What the award visibility rule needs to know about an award.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AwardAccess {
    /// The learner who holds it.
    pub learner: UserId,
    /// The issuer that awarded it.
    pub organisation: OrganisationId,
    /// The learner's choice.
    pub privacy: Privacy,
    pub status: AwardStatus,
}

/// What of an award is to be seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AwardView {
    /// The award as its learner shares it: the page, the embed card, the API's award, the
    /// downloads (JSON, JWT, baked PNG and SVG) and the OB 2.0 hosted assertion (which carries the
    /// recipient's salt). The learner and the issuer's staff always; anyone else unless the
    /// learner made it private. A revoked or suspended award stays as visible as it was, so that
    /// its page and hosted assertion tell verifiers it was withdrawn.
    Shared,
    /// Where the award came from: the submission that earned it. The learner and the issuer's
    /// staff only, whatever the privacy; never an assessor as such (assessment is blind).
    Provenance,
    /// Listing: on public lists and indexed by search engines. Public, active awards only.
    Listed,
}

/// Anything that may need permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Create a new issuer organisation (the creator becomes its owner).
    CreateOrganisation,
    /// Create, list and revoke one's own API tokens.
    ManageOwnTokens,
    /// Apply for an achievement (start a submission).
    Apply,
    /// Act on something the user owns (their submission, award or notification).
    Own(UserId),
    /// Run the installation: read the mail outbox (operators named in the configuration).
    Operate,
    /// Judge one submission: the assessor it is assigned to, while they may assess for its issuer.
    AssessAssigned(OrganisationId, Option<UserId>),
    /// An action inside an organisation.
    Org(OrganisationId, OrgAction),
    /// See an award, or part of it (the one visibility rule; anonymous visitors may too).
    ViewAward(AwardAccess, AwardView),
    /// Search for talent on behalf of an organisation of this kind: its owners and staff, and
    /// only when it is an employer.
    FindTalent(OrganisationId, OrganisationKind),
    /// Change anything at all (every request but a read): refused to an actor whose API token
    /// is read-only, allowed to everyone else, whose other permissions still apply.
    Change,
}

/// Whether `role` may do `action`: the whole role × action matrix in one match.
pub fn role_permits(role: Role, action: OrgAction) -> bool {
    use OrgAction::*;
    match role {
        Role::Owner => true,
        Role::Staff => matches!(action, ViewDrafts | Author | Publish | Assess | ManageAssessment | ViewEarners | FindTalent | Moderate | ViewInsights),
        Role::Assessor => matches!(action, ViewDrafts | Assess),
    }
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// Nobody is signed in, and the action needs someone.
    #[error("sign in to do this")]
    Unauthenticated,
    /// The signed-in user lacks the role.
    #[error("your role does not allow this")]
    Forbidden,
    /// The caller's API token may only read.
    #[error("this API token is read-only")]
    ReadOnly,
}

/// Who is asking: nobody, or a user with their memberships.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Actor {
    pub user: Option<UserId>,
    pub memberships: Vec<(OrganisationId, Role)>,
    /// The organisations among [`Actor::memberships`] that are employers: what only an issuer
    /// does ([`OrgAction::issuers_only`]) is refused there, whatever the role.
    pub employers: Vec<OrganisationId>,
    /// Whether the user is one of the installation's operators (named in its configuration).
    pub operator: bool,
    /// Whether the user acts through a read-only API token: they may read what they could read
    /// anyway, and change nothing ([`Action::Change`]).
    pub read_only: bool,
}

impl Actor {
    /// Nobody signed in.
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// A signed-in user and their organisation roles.
    pub fn member(user: UserId, memberships: Vec<(OrganisationId, Role)>) -> Self {
        Self { user: Some(user), memberships, employers: Vec::new(), operator: false, read_only: false }
    }

    /// A signed-in user and their organisation roles, each organisation with its kind.
    pub fn member_of(user: UserId, memberships: Vec<(OrganisationId, Role, OrganisationKind)>) -> Self {
        let employers = memberships.iter().filter(|(_, _, kind)| *kind == OrganisationKind::Employer).map(|(org, _, _)| *org).collect();
        Self { employers, ..Self::member(user, memberships.into_iter().map(|(org, role, _)| (org, role)).collect()) }
    }

    /// The same actor limited to reading (a read-only API token).
    pub fn as_read_only(self) -> Self {
        Self { read_only: true, ..self }
    }

    /// The same actor as an operator of the installation.
    pub fn as_operator(self) -> Self {
        Self { operator: true, ..self }
    }

    /// The user's role in `organisation`, if any.
    pub fn role_in(&self, organisation: OrganisationId) -> Option<Role> {
        self.memberships.iter().find(|(org, _)| *org == organisation).map(|(_, role)| *role)
    }

    /// Whether this actor may do `action`.
    ///
    /// # Errors
    /// [`Denied::Unauthenticated`] for anonymous actors, [`Denied::Forbidden`] for users without
    /// the role, [`Denied::ReadOnly`] for [`Action::Change`] through a read-only token.
    pub fn authorise(&self, action: Action) -> Result<(), Denied> {
        if let Action::ViewAward(award, view) = action {
            return match self.sees_award(award, view) {
                true => Ok(()),
                false if self.user.is_none() => Err(Denied::Unauthenticated),
                false => Err(Denied::Forbidden),
            };
        }
        if matches!(action, Action::Change) {
            return if self.read_only { Err(Denied::ReadOnly) } else { Ok(()) };
        }
        if self.user.is_none() {
            return Err(Denied::Unauthenticated);
        }
        let allowed = match action {
            Action::CreateOrganisation | Action::ManageOwnTokens | Action::Apply => true,
            Action::Own(owner) => self.user == Some(owner),
            Action::Operate => self.operator,
            Action::AssessAssigned(org, assigned) => self.may_in(org, OrgAction::Assess) && assigned.is_some() && assigned == self.user,
            Action::Org(org, org_action) => self.may_in(org, org_action),
            Action::FindTalent(org, kind) => {
                kind == OrganisationKind::Employer && self.role_in(org).is_some_and(|role| role_permits(role, OrgAction::FindTalent))
            }
            Action::ViewAward(award, view) => self.sees_award(award, view),
            Action::Change => !self.read_only,
        };
        if allowed { Ok(()) } else { Err(Denied::Forbidden) }
    }

    /// Whether the actor's role in `org` permits `action` there, and the organisation is of a
    /// kind that does it.
    fn may_in(&self, org: OrganisationId, action: OrgAction) -> bool {
        self.role_in(org).is_some_and(|role| role_permits(role, action)) && !(action.issuers_only() && self.employers.contains(&org))
    }

    /// The award visibility rule (see [`AwardView`]). The issuer's staff are those who run its
    /// assessment ([`OrgAction::ManageAssessment`]); an assessor sees no more than a visitor.
    fn sees_award(&self, award: AwardAccess, view: AwardView) -> bool {
        let learner = self.user == Some(award.learner);
        let staff = self.user.is_some() && self.role_in(award.organisation).is_some_and(|role| role_permits(role, OrgAction::ManageAssessment));
        match view {
            AwardView::Shared => learner || staff || award.privacy.shows_to_others(),
            AwardView::Provenance => learner || staff,
            AwardView::Listed => award.privacy == Privacy::Public && award.status == AwardStatus::Active,
        }
    }

    /// Whether this actor may do `action` (for showing or hiding controls).
    pub fn can(&self, action: Action) -> bool {
        self.authorise(action).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrgAction::*;

    /// The matrix, a row per action: owner, staff, assessor, member of another organisation.
    const MATRIX: [(OrgAction, [bool; 4]); 14] = [
        (ViewDrafts, [true, true, true, false]),
        (EditProfile, [true, false, false, false]),
        (ManageMembers, [true, false, false, false]),
        (Author, [true, true, false, false]),
        (Publish, [true, true, false, false]),
        (Assess, [true, true, true, false]),
        (ManageAssessment, [true, true, false, false]),
        (ViewEarners, [true, true, false, false]),
        (AgreeToComponents, [true, false, false, false]),
        (FindTalent, [true, true, false, false]),
        (Moderate, [true, true, false, false]),
        (ViewInsights, [true, true, false, false]),
        (ManageWebhooks, [true, false, false, false]),
        (ManagePayments, [true, false, false, false]),
    ];

    /// Who sees an award, a row per (privacy, status, view): its learner, the issuer's owner,
    /// staff and assessor, another issuer's owner, another signed-in user, an anonymous visitor.
    const AWARD_MATRIX: [(Privacy, AwardStatus, AwardView, [bool; 7]); 15] = {
        use AwardStatus::{Active, Revoked, Suspended};
        use AwardView::{Listed, Provenance, Shared};
        use Privacy::{Private, Public, Unlisted};
        [
            (Public, Active, Shared, [true, true, true, true, true, true, true]),
            (Unlisted, Active, Shared, [true, true, true, true, true, true, true]),
            (Private, Active, Shared, [true, true, true, false, false, false, false]),
            (Public, Revoked, Shared, [true, true, true, true, true, true, true]),
            (Private, Revoked, Shared, [true, true, true, false, false, false, false]),
            (Unlisted, Suspended, Shared, [true, true, true, true, true, true, true]),
            (Private, Suspended, Shared, [true, true, true, false, false, false, false]),
            (Public, Active, Provenance, [true, true, true, false, false, false, false]),
            (Unlisted, Active, Provenance, [true, true, true, false, false, false, false]),
            (Private, Revoked, Provenance, [true, true, true, false, false, false, false]),
            (Public, Active, Listed, [true, true, true, true, true, true, true]),
            (Public, Revoked, Listed, [false; 7]),
            (Public, Suspended, Listed, [false; 7]),
            (Unlisted, Active, Listed, [false; 7]),
            (Private, Active, Listed, [false; 7]),
        ]
    };

    #[test]
    fn only_an_employers_owners_and_staff_find_talent() {
        let org = OrganisationId::new();
        let owner = Actor::member(UserId::new(), vec![(org, Role::Owner)]);
        let staff = Actor::member(UserId::new(), vec![(org, Role::Staff)]);
        let assessor = Actor::member(UserId::new(), vec![(org, Role::Assessor)]);
        let outsider = Actor::member(UserId::new(), vec![(OrganisationId::new(), Role::Owner)]);
        for actor in [&owner, &staff] {
            assert!(actor.can(Action::FindTalent(org, OrganisationKind::Employer)));
            assert_eq!(actor.authorise(Action::FindTalent(org, OrganisationKind::Issuer)), Err(Denied::Forbidden), "an issuer is not an employer");
        }
        assert_eq!(assessor.authorise(Action::FindTalent(org, OrganisationKind::Employer)), Err(Denied::Forbidden));
        assert_eq!(outsider.authorise(Action::FindTalent(org, OrganisationKind::Employer)), Err(Denied::Forbidden));
        assert_eq!(Actor::anonymous().authorise(Action::FindTalent(org, OrganisationKind::Employer)), Err(Denied::Unauthenticated));
    }

    #[test]
    fn an_employer_keeps_its_profile_and_members_and_issues_nothing() {
        let (employer, issuer) = (OrganisationId::new(), OrganisationId::new());
        let owner = Actor::member_of(UserId::new(), vec![(employer, Role::Owner, OrganisationKind::Employer), (issuer, Role::Owner, OrganisationKind::Issuer)]);
        let staff = Actor::member_of(UserId::new(), vec![(employer, Role::Staff, OrganisationKind::Employer)]);
        for action in OrgAction::ALL {
            assert_eq!(owner.can(Action::Org(employer, action)), !action.issuers_only(), "{action:?} in the employer");
            assert!(owner.can(Action::Org(issuer, action)), "{action:?} in the issuer the same owner owns");
            assert_eq!(staff.can(Action::Org(employer, action)), role_permits(Role::Staff, action) && !action.issuers_only(), "{action:?}");
        }
        for action in [OrgAction::EditProfile, OrgAction::ManageMembers, OrgAction::FindTalent] {
            assert!(!action.issuers_only(), "{action:?}");
        }
        assert!(owner.can(Action::FindTalent(employer, OrganisationKind::Employer)));
        assert!(!owner.can(Action::AssessAssigned(employer, owner.user)), "nobody assesses for an employer");
        assert!(owner.can(Action::AssessAssigned(issuer, owner.user)));
    }

    #[test]
    fn role_by_action_matrix_holds() {
        award_visibility_follows_its_matrix();
        let org = OrganisationId::new();
        let other = OrganisationId::new();
        let actors = [
            Actor::member(UserId::new(), vec![(org, Role::Owner)]),
            Actor::member(UserId::new(), vec![(org, Role::Staff)]),
            Actor::member(UserId::new(), vec![(org, Role::Assessor)]),
            Actor::member(UserId::new(), vec![(other, Role::Owner)]),
        ];
        assert_eq!(MATRIX.len(), OrgAction::ALL.len(), "every action has a row");
        for (action, expected) in MATRIX {
            for (actor, allowed) in actors.iter().zip(expected) {
                let result = actor.authorise(Action::Org(org, action));
                assert_eq!(result.is_ok(), allowed, "{action:?} for {:?}", actor.memberships);
                if !allowed {
                    assert_eq!(result, Err(Denied::Forbidden));
                }
            }
        }
    }

    fn award_visibility_follows_its_matrix() {
        let org = OrganisationId::new();
        let learner = UserId::new();
        let actors = [
            Actor::member(learner, vec![]),
            Actor::member(UserId::new(), vec![(org, Role::Owner)]),
            Actor::member(UserId::new(), vec![(org, Role::Staff)]),
            Actor::member(UserId::new(), vec![(org, Role::Assessor)]),
            Actor::member(UserId::new(), vec![(OrganisationId::new(), Role::Owner)]),
            Actor::member(UserId::new(), vec![]),
            Actor::anonymous(),
        ];
        for (privacy, status, view, expected) in AWARD_MATRIX {
            let action = Action::ViewAward(AwardAccess { learner, organisation: org, privacy, status }, view);
            for (actor, allowed) in actors.iter().zip(expected) {
                let result = actor.authorise(action);
                assert_eq!(result.is_ok(), allowed, "{privacy:?} {status:?} {view:?} for {actor:?}");
                if !allowed {
                    let reason = if actor.user.is_none() { Denied::Unauthenticated } else { Denied::Forbidden };
                    assert_eq!(result, Err(reason), "{privacy:?} {status:?} {view:?} for {actor:?}");
                }
            }
        }
        // The learner is the learner while signed in; an operator is no one special here.
        let award = AwardAccess { learner, organisation: org, privacy: Privacy::Private, status: AwardStatus::Active };
        assert!(!Actor::member(UserId::new(), vec![]).as_operator().can(Action::ViewAward(award, AwardView::Shared)));
        assert!(Actor::member(learner, vec![(org, Role::Assessor)]).can(Action::ViewAward(award, AwardView::Provenance)), "an assessor's own award");
    }

    #[test]
    fn anonymous_actors_are_asked_to_sign_in() {
        let anonymous = Actor::anonymous();
        for action in OrgAction::ALL {
            assert_eq!(anonymous.authorise(Action::Org(OrganisationId::new(), action)), Err(Denied::Unauthenticated));
        }
        assert_eq!(anonymous.authorise(Action::CreateOrganisation), Err(Denied::Unauthenticated));
        assert_eq!(anonymous.authorise(Action::ManageOwnTokens), Err(Denied::Unauthenticated));
    }

    #[test]
    fn any_signed_in_user_may_create_an_organisation_and_tokens() {
        let learner = Actor::member(UserId::new(), vec![]);
        assert!(learner.can(Action::CreateOrganisation));
        assert!(learner.can(Action::ManageOwnTokens));
    }

    #[test]
    fn owners_act_on_their_own_things_and_assessors_on_their_assignments() {
        let org = OrganisationId::new();
        let learner = UserId::new();
        let assessor = UserId::new();
        let me = Actor::member(learner, vec![]);
        assert!(me.can(Action::Own(learner)));
        assert!(me.can(Action::Apply));
        assert_eq!(me.authorise(Action::Own(UserId::new())), Err(Denied::Forbidden));
        let judge = Actor::member(assessor, vec![(org, Role::Assessor)]);
        assert!(judge.can(Action::AssessAssigned(org, Some(assessor))));
        assert!(!judge.can(Action::AssessAssigned(org, Some(UserId::new()))), "someone else's assignment");
        assert!(!judge.can(Action::AssessAssigned(org, None)), "unassigned");
        assert!(!judge.can(Action::AssessAssigned(OrganisationId::new(), Some(assessor))), "another issuer");
        let former = Actor::member(assessor, vec![]);
        assert!(!former.can(Action::AssessAssigned(org, Some(assessor))), "no longer a member");
        assert_eq!(Actor::anonymous().authorise(Action::Own(learner)), Err(Denied::Unauthenticated));
        let owner = Actor::member(learner, vec![(org, Role::Owner)]);
        assert_eq!(owner.authorise(Action::Operate), Err(Denied::Forbidden), "owning an organisation does not make an operator");
        assert!(owner.as_operator().can(Action::Operate));
    }

    #[test]
    fn read_only_actors_change_nothing_but_keep_their_other_permissions() {
        let org = OrganisationId::new();
        let owner = Actor::member(UserId::new(), vec![(org, Role::Owner)]);
        assert!(owner.can(Action::Change));
        assert!(Actor::anonymous().can(Action::Change), "a visitor's requests are judged by their own actions");
        let reader = owner.as_read_only();
        assert_eq!(reader.authorise(Action::Change), Err(Denied::ReadOnly));
        assert!(reader.can(Action::Org(org, OrgAction::ViewDrafts)));
    }

    #[test]
    fn roles_parse_from_their_names_only() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert!(Role::parse("admin").is_err());
    }
}
