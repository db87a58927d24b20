//! Authorisation: who may do what. Every handler asks here, and only here.

use crate::ids::{OrganisationId, UserId};
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
}

impl OrgAction {
    pub const ALL: [OrgAction; 7] = [
        OrgAction::ViewDrafts,
        OrgAction::EditProfile,
        OrgAction::ManageMembers,
        OrgAction::Author,
        OrgAction::Publish,
        OrgAction::Assess,
        OrgAction::ManageAssessment,
    ];
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
    /// Change anything at all (every request but a read): refused to an actor whose API token
    /// is read-only, allowed to everyone else, whose other permissions still apply.
    Change,
}

/// Whether `role` may do `action`: the whole role × action matrix in one match.
pub fn role_permits(role: Role, action: OrgAction) -> bool {
    use OrgAction::*;
    match role {
        Role::Owner => true,
        Role::Staff => matches!(action, ViewDrafts | Author | Publish | Assess | ManageAssessment),
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
        Self { user: Some(user), memberships, operator: false, read_only: false }
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
        if action == Action::Change {
            return if self.read_only { Err(Denied::ReadOnly) } else { Ok(()) };
        }
        if self.user.is_none() {
            return Err(Denied::Unauthenticated);
        }
        let allowed = match action {
            Action::CreateOrganisation | Action::ManageOwnTokens | Action::Apply => true,
            Action::Own(owner) => self.user == Some(owner),
            Action::Operate => self.operator,
            Action::AssessAssigned(org, assigned) => {
                self.role_in(org).is_some_and(|role| role_permits(role, OrgAction::Assess)) && assigned.is_some() && assigned == self.user
            }
            Action::Org(org, org_action) => self.role_in(org).is_some_and(|role| role_permits(role, org_action)),
            Action::Change => !self.read_only,
        };
        if allowed { Ok(()) } else { Err(Denied::Forbidden) }
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
    const MATRIX: [(OrgAction, [bool; 4]); 7] = [
        (ViewDrafts, [true, true, true, false]),
        (EditProfile, [true, false, false, false]),
        (ManageMembers, [true, false, false, false]),
        (Author, [true, true, false, false]),
        (Publish, [true, true, false, false]),
        (Assess, [true, true, true, false]),
        (ManageAssessment, [true, true, false, false]),
    ];

    #[test]
    fn role_by_action_matrix_holds() {
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
