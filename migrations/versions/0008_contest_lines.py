"""scoring: a contest-wide all-time line in leaderboard_totals (scope 'contest', subject 0)

Collective goals read the whole contest's points from this line instead of summing the ledger on every
progress request and badge check. The scope CHECK constraints take the new value (the bucket table's too,
so both columns keep one set of values); existing contests get their line from the ledger.

Revision ID: 0008_contest_lines
Revises: 0007_distance_samples
"""
import sqlalchemy as sa
from alembic import op


revision = '0008_contest_lines'
down_revision = '0007_distance_samples'
branch_labels = None
depends_on = None

OLD = ('user', 'team', 'organisation')
NEW = (*OLD, 'contest')
TABLES = {'leaderboard_totals': 'leaderboard_scope', 'leaderboard_buckets': 'leaderboard_bucket_scope'}


def _scope_values(values):
    for table, enum_name in TABLES.items():
        if op.get_bind().dialect.name == 'postgresql':
            name = f'ck_{table}_{enum_name}'
            op.drop_constraint(op.f(name), table, type_='check')
            quoted = ', '.join(f"'{v}'" for v in values)
            op.execute(f'ALTER TABLE {table} ADD CONSTRAINT {name} CHECK (scope IN ({quoted}))')
        else:
            with op.batch_alter_table(table, recreate='always') as batch_op:
                batch_op.alter_column('scope', existing_type=sa.Enum(*(OLD if values == NEW else NEW), name=enum_name,
                                                                     native_enum=False, create_constraint=True,
                                                                     length=32),
                                      type_=sa.Enum(*values, name=enum_name, native_enum=False,
                                                    create_constraint=True, length=32), existing_nullable=False)


def upgrade():
    _scope_values(NEW)
    op.execute("INSERT INTO leaderboard_totals (contest_id, scope, period_key, subject_id, points) "
               "SELECT contest_id, 'contest', 'all', 0, SUM(points) FROM points_entries "
               "GROUP BY contest_id HAVING SUM(CASE WHEN points <> 0 THEN 1 ELSE 0 END) > 0")


def downgrade():
    op.execute("DELETE FROM leaderboard_totals WHERE scope = 'contest'")
    _scope_values(OLD)
