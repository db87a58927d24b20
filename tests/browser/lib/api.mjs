// The JSON API as the browser tests use it to set the scene: signing in the demo people and
// earning a badge the way a learner does (apply, evidence, submit; the assessor passes it).

const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n' +
    '3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n',
);

export const DEMO = {
  issuer: { email: 'issuer@demo.cairn.test', password: 'cairn-demo-issuer' },
  assessor: { email: 'assessor@demo.cairn.test', password: 'cairn-demo-assessor' },
  learner: { email: 'learner@demo.cairn.test', password: 'cairn-demo-learner', name: 'Lena Fischer' },
  graduate: { email: 'graduate@demo.cairn.test', password: 'cairn-demo-graduate', name: 'Tomás Rivera' },
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** One API call; throws with the answer on anything but 2xx. */
export async function api(base, method, urlPath, { token, body, form } = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let payload;
  if (form) payload = form;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const response = await fetch(base + urlPath, { method, headers, body: payload });
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  if (!response.ok) throw new Error(`${method} ${urlPath}: HTTP ${response.status} ${text.slice(0, 400)}`);
  return json;
}

/** An API token for a demo person. */
export async function logIn(base, { email, password }) {
  return (await api(base, 'POST', '/api/v1/session', { body: { email, password } })).token;
}

/**
 * The demo learner earns `achievement` (as the API lists it): the assessor joins its pool, the
 * learner applies, uploads a PDF and submits (a fee due is waived by the issuer), and the
 * assessor passes every criterion at the top level. `tokens` are the issuer's, the assessor's and
 * the learner's API tokens. Returns the award as the learner's award list shows it.
 */
export async function earn(base, achievement, tokens) {
  const { issuer, assessor, learner } = tokens;
  const members = await api(base, 'GET', `/api/v1/organisations/${achievement.issuer.id}/members`, { token: issuer });
  const member = members.items.find((m) => m.email === DEMO.assessor.email);
  // Already in the pool is fine: the answer is then a conflict.
  await fetch(`${base}/api/v1/achievements/${achievement.id}/assessors`, {
    method: 'POST',
    headers: { authorization: `Bearer ${issuer}`, 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ user_id: member.user_id }),
  });
  const submission = await api(base, 'POST', `/api/v1/achievements/${achievement.id}/submissions`, {
    token: learner,
    body: {
      overview: 'I planned and ran the work with an agenda, roles and ground rules shared in advance.',
      reflection: 'I learnt to plan the work before starting and to ask for feedback early.',
      links: ['https://example.org/evidence/repo'],
      collaborators: [],
    },
  });
  if (submission.fee === 'due') await api(base, 'POST', `/api/v1/submissions/${submission.id}/fee`, { token: issuer, body: { action: 'waived' } });
  const form = new FormData();
  form.append('file', new Blob([PDF], { type: 'application/pdf' }), 'report.pdf');
  form.append('title', 'Report');
  await api(base, 'POST', `/api/v1/submissions/${submission.id}/artifacts`, { token: learner, form });
  await api(base, 'POST', `/api/v1/submissions/${submission.id}/submit`, { token: learner, body: {} });
  const queue = await api(base, 'GET', '/api/v1/assessments', { token: assessor });
  const item = queue.items.find((i) => i.submission_id === submission.id);
  if (!item) throw new Error(`submission ${submission.id} is not in the assessor's queue`);
  const { levels, criteria } = item.rubric;
  const top = levels[levels.length - 1];
  const scores = criteria.map((c) => ({ criterion: c.id, level: typeof top === 'string' ? top : levels.length, comment: 'Exemplary.' }));
  await api(base, 'POST', `/api/v1/assessments/${submission.id}`, { token: assessor, body: { scores, feedback: 'Excellent work.' } });
  for (let i = 0; i < 100; i++) {
    const mine = await api(base, 'GET', '/api/v1/awards', { token: learner });
    const award = (mine.items ?? mine).find((a) => a.achievement_id === achievement.id || a.achievement?.id === achievement.id);
    if (award) return award;
    await sleep(100);
  }
  throw new Error(`no award of ${achievement.name} appeared`);
}

/**
 * The demo learner earns the published micro-badge named `name` (by default the first free one
 * with a rubric) through [`earn`], then sets its privacy. Returns the award, the badge and the
 * three API tokens.
 */
export async function earnAward(base, { name = null, privacy = 'public' } = {}) {
  const tokens = { issuer: await logIn(base, DEMO.issuer), assessor: await logIn(base, DEMO.assessor), learner: await logIn(base, DEMO.learner) };
  const catalog = await api(base, 'GET', '/api/v1/achievements?kind=micro-badge&limit=100');
  const candidates = catalog.items.filter((a) => a.state === 'published' && a.rubric?.criteria?.length && (!name || a.name === name));
  const badge = candidates.sort((a, b) => Number(Boolean(b.fee?.free)) - Number(Boolean(a.fee?.free)))[0];
  if (!badge) throw new Error(`no published micro-badge${name ? ` named ${name}` : ''}`);
  const award = await earn(base, badge, tokens);
  await api(base, 'PUT', `/api/v1/awards/${award.id}/privacy`, { token: tokens.learner, body: { privacy, evidence_public: false } });
  return { award, badge, tokens };
}
