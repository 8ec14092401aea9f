from oslo_policy import policy

RULE_ADMIN = 'rule:admin'
RULE_MEMBER_OR_ADMIN = 'rule:project_member_or_admin'
RULE_READER_OR_ADMIN = 'rule:project_reader_or_admin'

rules = [
    policy.RuleDefault('admin', 'is_admin:True or role:admin',
                       description='Cloud administrator.'),
    policy.RuleDefault('project_member_api',
                       'role:member and project_id:%(project_id)s',
                       description='A member of the project owning the target.'),
    policy.RuleDefault('project_reader_api',
                       'role:reader and project_id:%(project_id)s',
                       description='A reader of the project owning the target.'),
    policy.RuleDefault('project_member_or_admin',
                       'rule:project_member_api or rule:admin',
                       description='Project member or administrator.'),
    policy.RuleDefault('project_reader_or_admin',
                       'rule:project_reader_api or rule:admin',
                       description='Project reader or administrator.'),
]


def list_rules():
    return rules
