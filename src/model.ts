/** The one model this service answers for (CONTRACT.md §1): the `model` of every task. */
export const MODEL = 'kirin_identify_face';
