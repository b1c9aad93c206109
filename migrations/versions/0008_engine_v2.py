"""engine v2: pause reasons, every step attempt kept, checkpoints as references to attempts

Existing data is carried over: each step that ran gets an attempt row for its latest attempt
(holding its current output), and each checkpoint becomes a full snapshot that refers to the
latest attempt of every step it listed. Downgrading copies the outputs back into the
checkpoints.

Revision ID: 0008_engine_v2
Revises: 0007_budgets
Create Date: 2026-12-01 09:20:00

"""
import json

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008_engine_v2'
down_revision = '0007_budgets'
branch_labels = None
depends_on = None

MONEY = sa.Numeric(18, 8)


def upgrade():
    with op.batch_alter_table('workflow_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pause_reason', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('pause_note', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_checkpoint_id', sa.Integer(), nullable=True))
    op.create_table(
        'step_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('step_run_id', sa.Integer(), nullable=False),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('job_id', sa.String(length=100), nullable=True),
        sa.Column('queue', sa.String(length=64), nullable=True),
        sa.Column('worker', sa.String(length=200), nullable=True),
        sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('traceback', sa.Text(), nullable=True),
        sa.Column('output', sa.JSON(), nullable=True),
        sa.Column('output_bytes', sa.Integer(), nullable=True),
        sa.Column('cost', MONEY, nullable=False),
        sa.ForeignKeyConstraint(['run_id'], ['workflow_runs.id'], name=op.f('fk_step_attempts_run_id_workflow_runs'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['step_run_id'], ['step_runs.id'],
                                name=op.f('fk_step_attempts_step_run_id_step_runs'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_step_attempts')),
        sa.UniqueConstraint('step_run_id', 'attempt', name='uq_step_attempts_step_run_id_attempt'),
    )
    with op.batch_alter_table('step_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_step_attempts_run_id', ['run_id'], unique=False)
    with op.batch_alter_table('checkpoints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('steps', sa.JSON(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_checkpoints_parent_id_checkpoints'), 'checkpoints',
                                    ['parent_id'], ['id'], ondelete='CASCADE')
    carry_over_attempts_and_checkpoints()
    with op.batch_alter_table('checkpoints', schema=None) as batch_op:
        batch_op.alter_column('steps', existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column('state')


def carry_over_attempts_and_checkpoints():
    conn = op.get_bind()
    steps = conn.execute(sa.text(
        "SELECT id, run_id, step_key, status, attempt, rq_job_id, worker, queued_at, started_at, finished_at, "
        "output, error, cost FROM step_runs WHERE attempt > 0")).mappings().all()
    attempt_status = {'succeeded': 'succeeded', 'failed': 'failed', 'crashed': 'crashed', 'cancelled': 'cancelled'}
    latest: dict[tuple[int, str], int] = {}
    for step in steps:
        latest[(step['run_id'], step['step_key'])] = step['attempt']
        output = step['output']
        conn.execute(sa.text(
            "INSERT INTO step_attempts (run_id, step_run_id, attempt, status, job_id, queue, worker, queued_at, "
            "started_at, finished_at, error, output, output_bytes, cost) VALUES (:run_id, :id, :attempt, :status, "
            ":job, 'default', :worker, :queued_at, :started_at, :finished_at, :error, :output, :bytes, :cost)"),
            {**step, 'status': attempt_status.get(step['status'], 'running'), 'job': step['rq_job_id'],
             'output': output if output is None or isinstance(output, str) else json.dumps(output),
             'bytes': None if output is None else len(output if isinstance(output, str) else json.dumps(output))})
    for checkpoint in conn.execute(sa.text("SELECT id, run_id, state FROM checkpoints")).mappings().all():
        state = checkpoint['state']
        state = json.loads(state) if isinstance(state, str) else state or {}
        refs = {key: latest.get((checkpoint['run_id'], key), 0) for key in state.get('completed', {})}
        conn.execute(sa.text("UPDATE checkpoints SET steps = :steps WHERE id = :id"),
                     {'steps': json.dumps(refs), 'id': checkpoint['id']})


def downgrade():
    with op.batch_alter_table('checkpoints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.JSON(), nullable=True))
    conn = op.get_bind()
    for checkpoint in conn.execute(sa.text("SELECT id, run_id, steps FROM checkpoints")).mappings().all():
        refs = checkpoint['steps']
        refs = json.loads(refs) if isinstance(refs, str) else refs or {}
        outputs = {}
        for key, attempt in refs.items():
            row = conn.execute(sa.text(
                "SELECT a.output FROM step_attempts a JOIN step_runs s ON s.id = a.step_run_id "
                "WHERE s.run_id = :run AND s.step_key = :key AND a.attempt = :attempt"),
                {'run': checkpoint['run_id'], 'key': key, 'attempt': attempt}).scalar()
            outputs[key] = json.loads(row) if isinstance(row, str) else row
        params = conn.execute(sa.text("SELECT params FROM workflow_runs WHERE id = :id"),
                              {'id': checkpoint['run_id']}).scalar()
        params = json.loads(params) if isinstance(params, str) else params
        conn.execute(sa.text("UPDATE checkpoints SET state = :state WHERE id = :id"),
                     {'state': json.dumps({'params': params, 'completed': outputs}), 'id': checkpoint['id']})
    with op.batch_alter_table('checkpoints', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_checkpoints_parent_id_checkpoints'), type_='foreignkey')
        batch_op.drop_column('steps')
        batch_op.drop_column('parent_id')
    with op.batch_alter_table('step_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_step_attempts_run_id')
    op.drop_table('step_attempts')
    with op.batch_alter_table('workflow_runs', schema=None) as batch_op:
        batch_op.drop_column('last_checkpoint_id')
        batch_op.drop_column('paused_at')
        batch_op.drop_column('pause_reason')
        batch_op.drop_column('pause_note')
