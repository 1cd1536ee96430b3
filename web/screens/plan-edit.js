import { api } from '../js/api.js';
import { planForm } from '../js/plan-forms.js';
import { comuni } from '../js/store.js';
import { flashNext, pageHeader } from '../js/ui.js';

export default async function planEdit(root, { session, navigate }) {
  const comuneList = await comuni();
  const socialWorkers = session.role === 'udp_admin'
    ? (await api('/api/users')).filter((u) => u.role === 'social_worker' && u.active)
    : null;
  root.append(
    pageHeader('Nuovo piano personalizzato', {
      crumbs: [['Piani', '#/piani'], ['Nuovo']],
      lead: 'Descrivi il progetto senza dati identificativi; dopo aggiungi i bisogni, uno per uno.',
    }),
    planForm({
      current: null,
      comuneList,
      socialWorkers,
      onSaved: (plan) => {
        flashNext(`Piano ${plan.case_code} creato. Ora aggiungi il primo bisogno.`);
        navigate(`/piani/${plan.id}`);
      },
    }));
}
